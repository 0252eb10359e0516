package endpoint

// Added by tools/cert-manager/build.sh (not upstream vcert).
//
// cert-manager v1.21 is built against vcert v5.13, which adds a connector for
// Palo Alto Networks NGTS. The Go module proxy refuses every vcert v5.13.x
// (and v5.12.4 and later), so the build uses vcert v5.12.3, which has no such
// connector. This constant lets cert-manager's Venafi client compile; vcert
// v5.12.3's NewClient rejects it ("ConnectorType is not defined"), so an
// Issuer with spec.venafi.ngts fails with that error while TPP and Cloud
// issuers work as upstream's.
const ConnectorTypeNGTS ConnectorType = 1 << 16
