// dgen.h on its own, as C++17 with every warning an error: C++ programs
// use the C header directly too.
#include "dgen.h"

#include <cstdio>
#include <type_traits>

static_assert(std::is_standard_layout_v<dgen_config>, "dgen_config is a plain C struct");
static_assert(sizeof(dgen_config) == 64, "dgen_config has the Rust layout");
static_assert(DGEN_STATUS_OK == 0, "success is 0");

int main() {
    dgen_config cfg;
    dgen_config_init(&cfg);
    dgen_generator *gen = nullptr;
    dgen_status st = dgen_create(&cfg, &gen);
    dgen_free(gen);
    std::printf("dgen.h compiles as C++17: %s\n", dgen_status_str(st));
    return st == DGEN_STATUS_OK ? 0 : 1;
}
