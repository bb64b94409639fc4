// Writing: EXR parts through Imf (any compression, scanline or tiled with levels, multi-part, YC).
#include "shim_common.hpp"

using namespace hp;

namespace {

Imf::Header makeHeader(const hp_exr_part_desc& d, bool multipart) {
    Imath::Box2i dw(Imath::V2i(d.origin_x, d.origin_y),
                    Imath::V2i(d.origin_x + d.width - 1, d.origin_y + d.height - 1));
    Imf::Header hdr(dw, dw);
    hdr.compression() = Imf::Compression(d.compression);
    if (d.dwa_level > 0) hdr.dwaCompressionLevel() = d.dwa_level;
    for (int c = 0; c < d.channel_count; ++c)
        hdr.channels().insert(d.channel_names[c], Imf::Channel(Imf::PixelType(d.pixel_types[c])));
    if (d.tiled)
        hdr.setTileDescription(Imf::TileDescription(unsigned(d.tile_x), unsigned(d.tile_y),
                                                    Imf::LevelMode(d.level_mode), Imf::ROUND_DOWN));
    if (multipart) {
        hdr.setName(d.name ? d.name : "");
        hdr.setType(d.tiled ? Imf::TILEDIMAGE : Imf::SCANLINEIMAGE);
    }
    return hdr;
}

// Imf converts pixel types when reading but not when writing, so each channel is stored in a buffer of
// its own type: half by round-to-nearest (callers clamp to the half range first), uint by truncation
// after clamping to [0, 2^32 - 1] with NaN as 0.
struct TypedPlanes {
    std::vector<std::vector<Imath::half>> halves;
    std::vector<std::vector<uint32_t>> uints;
    Imf::FrameBuffer fb;

    TypedPlanes(const hp_exr_part_desc& d, const std::vector<const float*>& planes, const Imath::Box2i& box) {
        const size_t n = size_t(box.max.x - box.min.x + 1) * size_t(box.max.y - box.min.y + 1);
        for (int c = 0; c < d.channel_count; ++c) {
            const float* src = planes[size_t(c)];
            const char* name = d.channel_names[c];
            switch (d.pixel_types[c]) {
            case HP_PIXEL_HALF: {
                halves.emplace_back(n);
                auto& dst = halves.back();
                for (size_t i = 0; i < n; ++i) dst[i] = Imath::half(src[i]);
                fb.insert(name, Imf::Slice::Make(Imf::HALF, dst.data(), box));
                break;
            }
            case HP_PIXEL_UINT: {
                uints.emplace_back(n);
                auto& dst = uints.back();
                for (size_t i = 0; i < n; ++i) {
                    float v = src[i];
                    dst[i] = !(v > 0) ? 0u : (v >= 4294967295.f ? 4294967295u : uint32_t(v));
                }
                fb.insert(name, Imf::Slice::Make(Imf::UINT, dst.data(), box));
                break;
            }
            default:
                fb.insert(name, Imf::Slice::Make(Imf::FLOAT, src, box));
            }
        }
    }
};

template <class Out>
void writeScanlines(Out& out, const hp_exr_part_desc& d) {
    std::vector<const float*> planes(d.planes, d.planes + d.channel_count);
    TypedPlanes typed(d, planes, out.header().dataWindow());
    out.setFrameBuffer(typed.fb);
    out.writePixels(d.height);
}

// Lower mip/rip levels are box-filtered from level 0 (the reader only ever uses level 0).
template <class Out>
void writeTiles(Out& out, const hp_exr_part_desc& d) {
    std::vector<std::pair<int, int>> levels;
    if (d.level_mode == HP_LEVEL_ONE) levels.push_back({0, 0});
    else if (d.level_mode == HP_LEVEL_MIPMAP)
        for (int l = 0; l < out.numLevels(); ++l) levels.push_back({l, l});
    else
        for (int ly = 0; ly < out.numYLevels(); ++ly)
            for (int lx = 0; lx < out.numXLevels(); ++lx) levels.push_back({lx, ly});
    for (auto [lx, ly] : levels) {
        const Imath::Box2i box = out.dataWindowForLevel(lx, ly);
        const int lw = box.max.x - box.min.x + 1, lh = box.max.y - box.min.y + 1;
        const int fx = d.width / lw, fy = d.height / lh;
        std::vector<std::vector<float>> storage(size_t(d.channel_count));
        std::vector<const float*> planes(size_t(d.channel_count));
        for (int c = 0; c < d.channel_count; ++c) {
            if (lx == 0 && ly == 0) { planes[size_t(c)] = d.planes[c]; continue; }
            auto& level = storage[size_t(c)];
            level.assign(size_t(lw) * size_t(lh), 0.f);
            for (int y = 0; y < lh; ++y)
                for (int x = 0; x < lw; ++x) {
                    double sum = 0;
                    for (int j = 0; j < fy; ++j)
                        for (int i = 0; i < fx; ++i)
                            sum += d.planes[c][size_t(y * fy + j) * size_t(d.width) + size_t(x * fx + i)];
                    level[size_t(y) * size_t(lw) + size_t(x)] = float(sum / (fx * fy));
                }
            planes[size_t(c)] = level.data();
        }
        TypedPlanes typed(d, planes, box);
        out.setFrameBuffer(typed.fb);
        out.writeTiles(0, out.numXTiles(lx) - 1, 0, out.numYTiles(ly) - 1, lx, ly);
    }
}

}  // namespace

extern "C" {

int hp_exr_write(const char* path, const hp_exr_part_desc* parts, int count, int threads, char* err,
                 size_t err_len) {
    return guarded(err, err_len, "writing", [&]() -> int {
        if (count < 1) {
            setError(err, err_len, "nothing to write");
            return 1;
        }
        threads = std::max(threads, 0);
        if (count == 1) {
            const hp_exr_part_desc& d = parts[0];
            Imf::Header hdr = makeHeader(d, false);
            if (d.tiled) {
                Imf::TiledOutputFile out(path, hdr, threads);
                writeTiles(out, d);
            } else {
                Imf::OutputFile out(path, hdr, threads);
                writeScanlines(out, d);
            }
            return 0;
        }
        std::vector<Imf::Header> headers;
        for (int p = 0; p < count; ++p) headers.push_back(makeHeader(parts[p], true));
        Imf::MultiPartOutputFile file(path, headers.data(), count, false, threads);
        for (int p = 0; p < count; ++p) {
            if (parts[p].tiled) {
                Imf::TiledOutputPart out(file, p);
                writeTiles(out, parts[p]);
            } else {
                Imf::OutputPart out(file, p);
                writeScanlines(out, parts[p]);
            }
        }
        return 0;
    });
}

int hp_exr_write_luminance_chroma(const char* path, int width, int height, const float* r, const float* g,
                                  const float* b, char* err, size_t err_len) {
    return guarded(err, err_len, "writing", [&]() -> int {
        std::vector<Imf::Rgba> px(size_t(width) * size_t(height));
        for (size_t i = 0; i < px.size(); ++i) px[i] = Imf::Rgba(r[i], g[i], b[i], 1.f);
        Imf::RgbaOutputFile out(path, width, height, Imf::WRITE_YC, 1.f, Imath::V2f(0, 0), 1.f,
                                Imf::INCREASING_Y, Imf::ZIP_COMPRESSION);
        out.setFrameBuffer(px.data(), 1, size_t(width));
        out.writePixels(height);
        return 0;
    });
}

}  // extern "C"
