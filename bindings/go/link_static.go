//go:build !dgen_pkgconfig

package dgen

// By default the package links the static library that `cargo build
// --release` leaves in the repository's target/release folder, and takes the
// header from include/, both found relative to this file, so `go build` and
// `go test` need no environment variables. Build with `-tags dgen_pkgconfig`
// to use an installed libdgen through pkg-config instead.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: ${SRCDIR}/../../target/release/libdgen.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
*/
import "C"
