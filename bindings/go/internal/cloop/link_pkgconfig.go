//go:build dgen_pkgconfig

package cloop

/*
#cgo pkg-config: dgen
*/
import "C"
