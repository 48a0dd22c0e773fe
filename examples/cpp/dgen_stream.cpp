// Writes a dataset with a 2:1 dedup ratio and a 3:1 compression ratio to a
// file with the C++ wrapper, verifies it on read-back, checks ranges produced
// from several threads, and shows how errors arrive.
//
//   dgen_stream_cpp FILE [MIB]      (default 64 MiB)
#include "dgen.hpp"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " FILE [MIB]\n";
        return 2;
    }
    const uint64_t size = (argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64) << 20;
    try {
        dgen::Generator gen(
            dgen::Config().size(size).dedup_ratio(2.0).compress_ratio(3.0).dedup_unit(8192).seed(42));

        // Stream the dataset until the sized stream is complete.
        {
            std::ofstream out(argv[1], std::ios::binary);
            std::vector<uint8_t> chunk(1 << 20);
            while (std::size_t n = gen.fill(chunk)) {
                out.write(reinterpret_cast<const char *>(chunk.data()), static_cast<std::streamsize>(n));
            }
            if (!out) {
                std::cerr << "cannot write " << argv[1] << "\n";
                return 1;
            }
        }
        std::cout << "wrote " << gen.position() << " bytes, seed " << gen.seed() << "\n";

        // Read back and verify; a mismatch gives the exact offset.
        std::ifstream in(argv[1], std::ios::binary);
        std::vector<uint8_t> back(1 << 20);
        uint64_t offset = 0;
        while (in.read(reinterpret_cast<char *>(back.data()), static_cast<std::streamsize>(back.size())) ||
               in.gcount() > 0) {
            back.resize(static_cast<std::size_t>(in.gcount()));
            uint64_t bad = 0;
            if (!gen.verify_at(offset, back, &bad)) {
                std::cerr << "corrupt byte at offset " << bad << "\n";
                return 1;
            }
            offset += back.size();
        }
        std::cout << "verified " << offset << " bytes read back\n";

        // fill_at is thread-safe: four threads each produce one quarter.
        std::vector<uint8_t> whole(static_cast<std::size_t>(size));
        std::vector<std::thread> workers;
        const std::size_t quarter = whole.size() / 4;
        for (std::size_t t = 0; t < 4; t++) {
            workers.emplace_back([&, t] { gen.fill_at(t * quarter, whole.data() + t * quarter, quarter); });
        }
        for (std::thread &w : workers) {
            w.join();
        }
        std::cout << "4 threads with fill_at reproduce the file: "
                  << (gen.verify_at(0, whole) ? "yes" : "no") << "\n";

        // Seek back into the stream, and make its first MiB in one shot into
        // memory aligned for O_DIRECT.
        gen.seek(gen.size() / 2);
        std::cout << "after seek to the middle: " << gen.read(1 << 20).size() << " bytes read at "
                  << gen.size() / 2 << "\n";
        dgen::AlignedBuffer block(1 << 20);
        dgen::generate(dgen::Config().size(size).dedup_ratio(2.0).compress_ratio(3.0).dedup_unit(8192).seed(42), block);
        std::cout << "generate gives the stream's first MiB: " << (gen.verify_at(0, block) ? "yes" : "no") << "\n";

        // Bad input throws dgen::Error with the status and the library's message.
        try {
            dgen::Generator bad(dgen::Config().compress_ratio(0.5));
        } catch (const dgen::Error &e) {
            std::cout << "bad config: " << dgen_status_str(e.status()) << " (" << e.what() << ")\n";
        }
    } catch (const dgen::Error &e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
