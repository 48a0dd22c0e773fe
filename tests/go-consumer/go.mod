module example.com/dgen-consumer

go 1.19

require github.com/libdgen/dgen/bindings/go v0.0.0

replace github.com/libdgen/dgen/bindings/go => ../../bindings/go
