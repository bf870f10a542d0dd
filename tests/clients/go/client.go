// Package wardenclient is the smallest useful Go client of Warden: a
// connection, a bearer credential per call, and the error details every
// Warden error carries. The stubs under gen/ come from proto/warden/v1 via
// buf.gen.yaml; they are generated in CI, never committed.
package wardenclient

import (
	"context"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Dial opens a plaintext HTTP/2 connection, as inside a cluster where TLS is
// terminated by the mesh. The connection is lazy: errors show on the first call.
func Dial(addr string) (*grpc.ClientConn, error) {
	return grpc.Dial(addr, grpc.WithInsecure())
}

// WithBearer attaches `authorization: Bearer <credential>` (an admin access
// token or a wdn_ API key) to the calls made with the returned context.
func WithBearer(ctx context.Context, credential string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+credential)
}

// ErrorDetails is what Warden puts in grpc-status-details-bin.
type ErrorDetails struct {
	Info       *errdetails.ErrorInfo
	Violations []*errdetails.BadRequest_FieldViolation
}

// DetailsOf decodes the details of an error returned by a Warden call.
func DetailsOf(err error) (ErrorDetails, error) {
	st, ok := status.FromError(err)
	if !ok {
		return ErrorDetails{}, fmt.Errorf("not a gRPC status: %w", err)
	}
	var details ErrorDetails
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			details.Info = d
		case *errdetails.BadRequest:
			details.Violations = append(details.Violations, d.GetFieldViolations()...)
		case error:
			return ErrorDetails{}, fmt.Errorf("undecodable detail: %w", d)
		}
	}
	if details.Info == nil {
		return ErrorDetails{}, fmt.Errorf("status %v has no ErrorInfo", st.Code())
	}
	return details, nil
}
