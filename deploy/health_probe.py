"""Waits until a gRPC server answers grpc.health.v1 Check with SERVING.

The image smoke test runs it against `warden serve` inside the container:
the image has no shell or client of its own to ask with.
"""

import argparse
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("address", help="host:port of the gRPC server")
    parser.add_argument("--service", default="", help='health service name ("" is the server)')
    parser.add_argument("--timeout", type=float, default=60, help="seconds to keep asking")
    args = parser.parse_args()

    deadline = time.monotonic() + args.timeout
    last = "no answer"
    with grpc.insecure_channel(args.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                request = health_pb2.HealthCheckRequest(service=args.service)
                status = stub.Check(request, timeout=2).status
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
                if status == health_pb2.HealthCheckResponse.SERVING:
                    print(f"{args.address} health: SERVING")
                    return 0
            except grpc.RpcError as error:
                last = error.code().name
            time.sleep(0.5)
    print(f"{args.address} health: {last} after {args.timeout:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
