// Reading pixels: OpenEXRCore validates every chunk and decodes the codecs it handles exactly; Imf decodes the rest
// (DWAA/DWAB, which Core 3.1 cannot, and B44). Opening and the header queries are in exr_open.cpp.
#include "shim_common.hpp"

using namespace hp;
namespace {

// Locates every chunk of every level of `part` through Core, which checks offsets, chunk headers and
// packed sizes against the file, so Imf is never handed a chunk table pointing outside the file, and a
// truncated file is reported even when the damage lies in a level or part that is not decoded.
bool validateChunks(hp_exr_handle* h, int part, char* err, size_t err_len) {
    hp_exr_part_info info;
    if (hp_exr_get_part_info(h, part, &info, err, err_len) != 0) return false;
    if (info.storage == HP_STORAGE_DEEP_SCANLINE || info.storage == HP_STORAGE_DEEP_TILED) return true;
    const std::string where = h->parts > 1 ? "part " + std::to_string(part) + ": " : "";
    exr_chunk_info_t ci;
    exr_result_t rv;
    auto checkExtent = [&](const exr_chunk_info_t& c) {
        if (c.data_offset > h->src.size || c.packed_size > h->src.size - c.data_offset) {
            setError(err, err_len, where + "chunk " + std::to_string(c.idx) + " extends past the end of the file");
            return false;
        }
        return true;
    };
    if (info.storage == HP_STORAGE_SCANLINE) {
        int32_t lines = 1;
        if ((rv = exr_get_scanlines_per_chunk(h->core, part, &lines)) != EXR_ERR_SUCCESS || lines < 1) {
            setError(err, err_len, where + coreFailure("invalid scanline chunking", rv));
            return false;
        }
        for (int64_t y = info.dw_min_y; y <= info.dw_max_y; y += lines) {
            if ((rv = exr_read_scanline_chunk_info(h->core, part, int(y), &ci)) != EXR_ERR_SUCCESS) {
                setError(err, err_len, where + coreFailure(("scanline chunk at y=" + std::to_string(y)).c_str(), rv));
                return false;
            }
            if (!checkExtent(ci)) return false;
        }
        return true;
    }
    std::vector<std::pair<int, int>> levels;
    if (info.level_mode == HP_LEVEL_MIPMAP)
        for (int l = 0; l < std::min(info.levels_x, info.levels_y); ++l) levels.push_back({l, l});
    else
        // Ripmaps: OpenEXRCore 3.1.5 computes the chunk index of a level (lx, ly > 0) from the levels (< lx, < ly)
        // before it instead of every level of the rows before it (validate_and_compute_tile_chunk_off), so it
        // reads another tile's leader and rejects valid files ("bad tile mip/rip level"). Only the first row of
        // levels, (lx, 0), whose index it gets right, is located; level (0, 0) is the one decoded.
        for (int l = 0; l < std::max(info.levels_x, 1); ++l) levels.push_back({l, 0});
    for (auto [lx, ly] : levels) {
        int32_t lw = 0, lh = 0, tw = 0, th = 0;
        if ((rv = exr_get_level_sizes(h->core, part, lx, ly, &lw, &lh)) != EXR_ERR_SUCCESS ||
            (rv = exr_get_tile_sizes(h->core, part, lx, ly, &tw, &th)) != EXR_ERR_SUCCESS || tw < 1 || th < 1) {
            setError(err, err_len, where + coreFailure("invalid tile description", rv));
            return false;
        }
        const int64_t nx = (int64_t(lw) + tw - 1) / tw, ny = (int64_t(lh) + th - 1) / th;
        for (int64_t ty = 0; ty < ny; ++ty)
            for (int64_t tx = 0; tx < nx; ++tx) {
                if ((rv = exr_read_tile_chunk_info(h->core, part, int(tx), int(ty), lx, ly, &ci)) != EXR_ERR_SUCCESS) {
                    setError(err, err_len,
                             where + coreFailure(("tile (" + std::to_string(tx) + ", " + std::to_string(ty) +
                                                  ") of level (" + std::to_string(lx) + ", " + std::to_string(ly) + ")")
                                                     .c_str(),
                                                 rv));
                    return false;
                }
                if (!checkExtent(ci)) return false;
            }
    }
    return true;
}

// Decodes level 0 of a part with OpenEXRCore, chunk by chunk. Core checks every decompressed size
// against the header, so a corrupt chunk is an error; Imf 3.1 instead may copy bytes its decompressor
// never wrote (seen with valgrind on fuzzed files). Chunks are split over `threads` threads, each with
// its own decode pipeline (a Core read context may be used from several threads at once).
//
// Every channel of the chunk gets a destination, the unused ones (alpha, depth, other layers) one per-thread
// scratch area of a chunk's size. Core 3.1's exr_decoding_choose_default_routines picks its 3- and 4-channel half -> float
// unpackers (unpack_half_to_float_{3,4}chan_*) without checking that every channel is being filled or that
// none is subsampled; given a channel with no destination, they write through its null pointer. An RGBA
// half file read as RGB took exactly that path: unpack_half_to_float_4chan_planar stored A's row at address
// 0 (SIGSEGV for every codec Core decodes). Upstream added both checks in 2025 (OpenEXR commit 8bc3faeb, in
// 3.3); with 3.1 the caller must keep them true: all channels filled here, and parts with a subsampled
// channel never reach this function (see hp_exr_read_planes).
struct ChunkJob {
    int64_t tx, ty;  // tile coordinates, or (0, y) for a scanline chunk starting at absolute y
};

bool coreDecode(hp_exr_handle* h, int part, const hp_exr_part_info& info, int count, const char* const* names,
                float* const* planes, int threads, char* err, size_t err_len) {
    const int64_t width = int64_t(info.dw_max_x) - info.dw_min_x + 1;
    const int64_t height = int64_t(info.dw_max_y) - info.dw_min_y + 1;
    const std::string where = h->parts > 1 ? "part " + std::to_string(part) + ": " : "";
    const bool tiled = info.storage == HP_STORAGE_TILED;

    std::vector<ChunkJob> jobs;
    if (!tiled) {
        int32_t lines = 1;
        exr_get_scanlines_per_chunk(h->core, part, &lines);
        for (int64_t y = info.dw_min_y; y <= info.dw_max_y; y += lines) jobs.push_back({0, y});
    } else {
        const int64_t nx = (width + info.tile_x - 1) / info.tile_x, ny = (height + info.tile_y - 1) / info.tile_y;
        for (int64_t ty = 0; ty < ny; ++ty)
            for (int64_t tx = 0; tx < nx; ++tx) jobs.push_back({tx, ty});
    }

    std::mutex failureLock;
    std::string failure;
    std::atomic<bool> failed{false};
    auto fail = [&](const std::string& msg) {
        std::lock_guard<std::mutex> guard(failureLock);
        if (!failed.exchange(true)) failure = msg;
    };

    auto worker = [&](size_t first, size_t stride) {
        exr_decode_pipeline_t decoder = EXR_DECODE_PIPELINE_INITIALIZER;
        bool initialized = false;
        std::vector<float> scratch;  // destination of the channels that are decoded but not wanted
        for (size_t j = first; j < jobs.size() && !failed.load(); j += stride) {
            exr_chunk_info_t ci;
            exr_result_t rv;
            int64_t x0, y0;
            // Named only on failure: a string per chunk would be a heap allocation per scanline.
            auto what = [&] {
                return tiled ? "tile (" + std::to_string(jobs[j].tx) + ", " + std::to_string(jobs[j].ty) + ")"
                             : "scanline chunk at y=" + std::to_string(jobs[j].ty);
            };
            if (tiled) {
                rv = exr_read_tile_chunk_info(h->core, part, int(jobs[j].tx), int(jobs[j].ty), 0, 0, &ci);
                x0 = jobs[j].tx * info.tile_x;
                y0 = jobs[j].ty * info.tile_y;
            } else {
                rv = exr_read_scanline_chunk_info(h->core, part, int(jobs[j].ty), &ci);
                x0 = 0;
                y0 = int64_t(ci.start_y) - info.dw_min_y;
            }
            if (rv == EXR_ERR_SUCCESS)
                rv = initialized ? exr_decoding_update(h->core, part, &ci, &decoder)
                                 : exr_decoding_initialize(h->core, part, &ci, &decoder);
            if (rv != EXR_ERR_SUCCESS) {
                fail(where + coreFailure(what().c_str(), rv));
                break;
            }
            const bool first = !initialized;
            initialized = true;
            if (y0 < 0 || x0 + ci.width > width || y0 + ci.height > height) {
                fail(where + what() + ": chunk lies outside the data window");
                break;
            }
            // The unwanted channels share one area: what lands there is never read.
            const size_t chunkPixels = size_t(std::max(ci.width, 0)) * size_t(std::max(ci.height, 0));
            if (scratch.size() < chunkPixels) {
                try {
                    scratch.resize(chunkPixels);
                } catch (...) {
                    fail(where + what() + ": out of memory");
                    break;
                }
            }
            for (int c = 0; c < decoder.channel_count; ++c) {
                exr_coding_channel_info_t& ch = decoder.channels[c];
                ch.decode_to_ptr = reinterpret_cast<uint8_t*>(scratch.data());
                ch.user_line_stride = int32_t(4 * ci.width);
                for (int i = 0; i < count; ++i)
                    if (std::strcmp(ch.channel_name, names[i]) == 0) {
                        ch.decode_to_ptr = reinterpret_cast<uint8_t*>(planes[i] + y0 * width + x0);
                        ch.user_line_stride = int32_t(4 * width);
                    }
                ch.user_pixel_stride = 4;
                ch.user_data_type = EXR_PIXEL_FLOAT;
                ch.user_bytes_per_element = 4;
            }
            // What Core is about to be asked, checked against what its 3.1 unpackers assume (see above): a
            // destination for every channel, no subsampling. A part that breaks this is an error, not a crash.
            for (int c = 0; c < decoder.channel_count; ++c) {
                const exr_coding_channel_info_t& ch = decoder.channels[c];
                if (!ch.decode_to_ptr || ch.x_samples != 1 || ch.y_samples != 1 || ch.user_bytes_per_element != 4) {
                    fail(where + what() + ": channel " + (ch.channel_name ? ch.channel_name : "?") +
                         " cannot be decoded safely by OpenEXRCore 3.1 (subsampled or without a destination)");
                    break;
                }
            }
            if (failed.load()) break;
            if (first && (rv = exr_decoding_choose_default_routines(h->core, part, &decoder)) != EXR_ERR_SUCCESS) {
                fail(where + coreFailure(what().c_str(), rv));
                break;
            }
            if ((rv = exr_decoding_run(h->core, part, &decoder)) != EXR_ERR_SUCCESS) {
                fail(where + coreFailure(what().c_str(), rv));
                break;
            }
        }
        if (initialized) exr_decoding_destroy(h->core, &decoder);
    };

    const size_t n = size_t(std::max(1, std::min(threads, int(jobs.size()))));
    std::vector<std::thread> pool;
    try {
        for (size_t t = 1; t < n; ++t) pool.emplace_back(worker, t, n);
    } catch (...) {
        fail("could not start decoding threads");
    }
    worker(0, n);  // after a failed thread start, `failed` is set and this returns at once
    for (auto& t : pool) t.join();
    if (failed.load()) {
        setError(err, err_len, failure);
        return false;
    }
    return true;
}

}  // namespace

extern "C" {

int hp_exr_read_planes(hp_exr_handle* h, int part, int count, const char* const* names, float* const* planes,
                       int threads, char* err, size_t err_len) {
    return guarded(err, err_len, "decoding", [&]() -> int {
        if (part < 0 || part >= h->parts) {
            setError(err, err_len, "no part " + std::to_string(part));
            return 1;
        }
        for (int p = 0; p < h->parts; ++p)
            if (!validateChunks(h, p, err, err_len)) return 1;
        hp_exr_part_info info;
        if (hp_exr_get_part_info(h, part, &info, err, err_len) != 0) return 1;
        for (int i = 0; i < count; ++i) {
            bool found = false;
            for (int c = 0; c < info.channel_count; ++c) {
                hp_exr_channel ch;
                if (hp_exr_get_channel(h, part, c, &ch) == 0 && std::strcmp(ch.name, names[i]) == 0) found = true;
            }
            if (!found) {
                setError(err, err_len, std::string("no channel ") + names[i]);
                return 1;
            }
        }
        // Core 3.1.5 cannot decode DWAA/DWAB and decodes B44/B44A FLOAT channels wrongly (measured: errors
        // of 10x on our round-trip test); those go to Imf, everything else to Core.
        // Parts with a subsampled channel go to Imf as well: Core 3.1's fast unpackers ignore sampling (see
        // coreDecode), and the selected channels are never subsampled, so Imf only has to skip the others.
        bool subsampled = false;
        for (int c = 0; c < info.channel_count; ++c) {
            hp_exr_channel ch;
            if (hp_exr_get_channel(h, part, c, &ch) == 0 && (ch.x_sampling != 1 || ch.y_sampling != 1))
                subsampled = true;
        }
        switch (info.compression) {
        case EXR_COMPRESSION_B44:
        case EXR_COMPRESSION_B44A:
        case EXR_COMPRESSION_DWAA:
        case EXR_COMPRESSION_DWAB:
            break;
        default:
            if (!subsampled)
                return coreDecode(h, part, info, count, names, planes, threads, err, err_len) ? 0 : 1;
        }
        MemIStream stream(h->src.data, h->src.size);
        Imf::MultiPartInputFile file(stream, std::max(threads, 0), false);
        Imf::InputPart in(file, part);
        const Imath::Box2i dw = in.header().dataWindow();
        Imf::FrameBuffer fb;
        for (int i = 0; i < count; ++i) {
            if (!in.header().channels().findChannel(names[i])) {
                setError(err, err_len, std::string("no channel ") + names[i]);
                return 1;
            }
            fb.insert(names[i], Imf::Slice::Make(Imf::FLOAT, planes[i], dw));
        }
        in.setFrameBuffer(fb);
        in.readPixels(dw.min.y, dw.max.y);
        return 0;
    });
}

int hp_exr_read_luminance_chroma(hp_exr_handle* h, int part, float* r, float* g, float* b, int threads,
                                 char* err, size_t err_len) {
    return guarded(err, err_len, "decoding", [&]() -> int {
        if (part != 0) {
            setError(err, err_len, "luminance/chroma data is only supported in part 0");
            return 1;
        }
        for (int p = 0; p < h->parts; ++p)
            if (!validateChunks(h, p, err, err_len)) return 1;
        MemIStream stream(h->src.data, h->src.size);
        Imf::RgbaInputFile in(stream, std::max(threads, 0));
        const Imath::Box2i dw = in.dataWindow();
        const int64_t w = int64_t(dw.max.x) - dw.min.x + 1, ht = int64_t(dw.max.y) - dw.min.y + 1;
        std::vector<Imf::Rgba> row(size_t(w) * size_t(ht));
        in.setFrameBuffer(row.data() - int64_t(dw.min.x) - int64_t(dw.min.y) * w, 1, size_t(w));
        in.readPixels(dw.min.y, dw.max.y);
        for (size_t i = 0; i < row.size(); ++i) {
            r[i] = float(row[i].r);
            g[i] = float(row[i].g);
            b[i] = float(row[i].b);
        }
        return 0;
    });
}

}  // extern "C"

extern "C" void hp_exr_set_global_threads(int threads) {
    try {
        Imf::setGlobalThreadCount(std::max(threads, 0));
    } catch (...) {
        // No pool: decoding stays serial, which is correct, only slower.
    }
}
