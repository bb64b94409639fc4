// Drives the OpenEXR shim the way EXRIO does, for memory checkers and fuzzers: open, header facts, then for
// every part (at most 4) the channels ChannelSelection would pick: R, G, B by name (alpha and the rest decoded
// into scratch), else Y, RY, BY through the luminance/chroma path, else Y, else the first channels that are not
// subsampled. Build and run: tools/fuzz/run.sh (see there).
#include "hp_exr.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

static int decodePart(hp_exr_handle* h, int part, char* err, size_t errLen) {
    hp_exr_part_info info;
    if (hp_exr_get_part_info(h, part, &info, err, errLen) != 0 || info.storage >= 2) return 1;
    std::vector<hp_exr_channel> chans;
    for (int i = 0; i < info.channel_count; ++i) {
        hp_exr_channel c;
        if (hp_exr_get_channel(h, part, i, &c) == 0) chans.push_back(c);
    }
    auto find = [&](const char* name) -> const hp_exr_channel* {
        for (auto& c : chans)
            if (std::strcmp(c.name, name) == 0) return &c;
        return nullptr;
    };
    const size_t n = size_t(info.dw_max_x - info.dw_min_x + 1) * size_t(info.dw_max_y - info.dw_min_y + 1);
    std::vector<float> planes(n * 3);
    float* ptrs[3] = {planes.data(), planes.data() + n, planes.data() + 2 * n};
    std::vector<const char*> names;
    if (find("R") && find("G") && find("B")) {
        names = {"R", "G", "B"};
    } else if (find("Y") && find("RY") && find("BY")) {
        return hp_exr_read_luminance_chroma(h, part, ptrs[0], ptrs[1], ptrs[2], 2, err, errLen);
    } else if (find("Y")) {
        names = {"Y"};
    } else {
        for (auto& c : chans)
            if (c.x_sampling == 1 && c.y_sampling == 1 && names.size() < 3) names.push_back(c.name);
    }
    for (const char* name : names) {
        const hp_exr_channel* c = find(name);
        if (c && (c->x_sampling != 1 || c->y_sampling != 1)) return 1;  // ChannelSelection refuses these
    }
    if (names.empty()) return 1;
    return hp_exr_read_planes(h, part, int(names.size()), names.data(), ptrs, 2, err, errLen);
}

static int decodeOnce(const uint8_t* data, size_t size) {
    char err[512] = {0};
    hp_exr_handle* h = nullptr;
    if (hp_exr_open(data, size, uint64_t(1) << 24, &h, err, sizeof err) != 0) return 1;
    int status = 0;
    const int parts = hp_exr_part_count(h);
    for (int p = 0; p < parts && p < 4; ++p) status |= decodePart(h, p, err, sizeof err);
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
