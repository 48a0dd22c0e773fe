//go:build !dgen_pkgconfig

package cloop

// The same linking as the dgen package: see ../../link_static.go.

/*
#cgo CFLAGS: -I${SRCDIR}/../../../../include
#cgo LDFLAGS: ${SRCDIR}/../../../../target/release/libdgen.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
*/
import "C"
