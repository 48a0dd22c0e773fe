//go:build dgen_pkgconfig

package dgen

// With `-tags dgen_pkgconfig` the header and library come from an installed
// libdgen found by pkg-config (set PKG_CONFIG_PATH to <prefix>/lib/pkgconfig
// for a prefix pkg-config does not search). The shared library is linked, so
// the program needs libdgen.so.0 at run time (LD_LIBRARY_PATH or ldconfig
// for a prefix the loader does not search).

/*
#cgo pkg-config: dgen
*/
import "C"
