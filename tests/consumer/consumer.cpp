// The C++ wrapper from an installed libdgen.
#include <dgen.hpp>

#include <iostream>

int main() {
    dgen::Generator gen(dgen::Config().size(1 << 20).compress_ratio(3.0).seed(7));
    std::size_t total = 0;
    for (auto block = gen.read(100000); !block.empty(); block = gen.read(100000)) {
        if (!gen.verify_at(total, block)) {
            return 1;
        }
        total += block.size();
    }
    try {
        dgen::Generator bad(dgen::Config().dedup_unit(1000));
        return 1;
    } catch (const dgen::Error &e) {
        std::cout << "libdgen " << dgen::version() << " from C++: " << total << " bytes; " << e.what() << "\n";
        return e.status() == DGEN_STATUS_INVALID_DEDUP_UNIT && gen.is_complete() ? 0 : 1;
    }
}
