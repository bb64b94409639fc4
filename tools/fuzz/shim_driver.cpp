// Drives the OpenEXR shim the way EXRIO does (open, header facts, decode R,G,B or the first channel),
// for memory checkers and fuzzers. Build and run: tools/fuzz/run.sh (see there).
#include "hp_exr.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

static int decodeOnce(const uint8_t* data, size_t size) {
    char err[512] = {0};
    hp_exr_handle* h = nullptr;
    if (hp_exr_open(data, size, uint64_t(1) << 24, &h, err, sizeof err) != 0) return 1;
    int status = 1;
    hp_exr_part_info info;
    if (hp_exr_get_part_info(h, 0, &info, err, sizeof err) == 0 && info.storage < 2) {
        std::vector<const char*> names;
        for (int i = 0; i < info.channel_count; ++i) {
            hp_exr_channel c;
            if (hp_exr_get_channel(h, 0, i, &c) == 0 && c.x_sampling == 1 && c.y_sampling == 1) names.push_back(c.name);
            if (names.size() == 3) break;
        }
        const size_t n = size_t(info.dw_max_x - info.dw_min_x + 1) * size_t(info.dw_max_y - info.dw_min_y + 1);
        std::vector<float> planes(n * names.size());
        std::vector<float*> ptrs;
        for (size_t i = 0; i < names.size(); ++i) ptrs.push_back(planes.data() + i * n);
        if (!names.empty())
            status = hp_exr_read_planes(h, 0, int(names.size()), names.data(), ptrs.data(), 2, err, sizeof err);
    }
    hp_exr_close(h);
    return status;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    decodeOnce(data, size);
    return 0;
}

#ifndef HP_FUZZER
int main(int argc, char** argv) {
    int ok = 0, failed = 0;
    for (int i = 1; i < argc; ++i) {
        std::ifstream f(argv[i], std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        (decodeOnce(bytes.data(), bytes.size()) == 0 ? ok : failed) += 1;
    }
    std::printf("%d decoded, %d refused\n", ok, failed);
    return 0;
}
#endif
