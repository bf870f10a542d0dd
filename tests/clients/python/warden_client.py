"""The smallest useful Python client of Warden: a channel, a bearer credential
per call, and the error details every Warden error carries.

The stubs (package `warden.v1`, in gen/) come from proto/warden/v1 through
buf.gen.yaml; CI generates them, they are never committed.
"""

from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2

# Where gRPC carries a google.rpc.Status with the error's details.
STATUS_DETAILS_KEY = "grpc-status-details-bin"

# Call metadata, as grpcio takes it.
Metadata = tuple[tuple[str, str | bytes], ...]


def connect(address: str) -> grpc.Channel:
    """A plaintext HTTP/2 channel, as inside a cluster where the mesh does TLS."""
    return grpc.insecure_channel(address)


def is_serving(channel: grpc.Channel) -> bool:
    """grpc.health.v1 Check of the whole server, as Kubernetes probes it."""
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    response: health_pb2.HealthCheckResponse = check(health_pb2.HealthCheckRequest())
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def bearer(credential: str) -> Metadata:
    """Call metadata for an admin access token or a wdn_ API key."""
    return (("authorization", f"Bearer {credential}"),)


@dataclass
class ErrorDetails:
    info: error_details_pb2.ErrorInfo
    violations: list[error_details_pb2.BadRequest.FieldViolation]


def details_of(error: grpc.RpcError) -> ErrorDetails:
    """Decodes the ErrorInfo and BadRequest violations of a failed call."""
    if not isinstance(error, grpc.Call):
        raise TypeError(f"not a completed call: {error!r}")
    encoded = next(
        (value for key, value in error.trailing_metadata() or () if key == STATUS_DETAILS_KEY),
        None,
    )
    if not isinstance(encoded, bytes):
        raise ValueError(f"{error.code()} carries no {STATUS_DETAILS_KEY}")
    status = status_pb2.Status.FromString(encoded)
    info = error_details_pb2.ErrorInfo()
    violations: list[error_details_pb2.BadRequest.FieldViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(bad_request.field_violations)
    if not info.reason:
        raise ValueError(f"{error.code()} carries no ErrorInfo")
    return ErrorDetails(info=info, violations=violations)
