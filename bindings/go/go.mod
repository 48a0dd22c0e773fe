module github.com/libdgen/dgen/bindings/go

go 1.19
