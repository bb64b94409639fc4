// OpenEXR shim: OpenEXRCore parses and validates headers and chunk tables (it is the hardened, fuzzed
// parser), then Imf decodes pixels, because OpenEXR 3.1's Core cannot decode DWAA/DWAB.
#include "hp_exr.h"

#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfIO.h>
#include <ImfInputPart.h>
#include <ImfMultiPartInputFile.h>
#include <ImfMultiPartOutputFile.h>
#include <ImfOutputFile.h>
#include <ImfOutputPart.h>
#include <ImfPartType.h>
#include <ImfRgbaFile.h>
#include <ImfTiledOutputFile.h>
#include <ImfThreading.h>
#include <ImfTiledOutputPart.h>
#include <Iex.h>
#include <openexr.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

void setError(char* err, size_t len, const std::string& msg) {
    if (!err || len == 0) return;
    // One line: the caller prints it after the path.
    std::string line;
    line.reserve(msg.size());
    for (char c : msg) line.push_back((c == '\n' || c == '\r') ? ' ' : c);
    std::snprintf(err, len, "%s", line.c_str());
}

struct MemSource {
    const char* data;
    uint64_t size;
};

// Core reports errors through this callback; keep the most detailed message of the current call.
thread_local std::string gCoreMessage;

void coreErrorHandler(exr_const_context_t, exr_result_t code, const char* msg) {
    gCoreMessage = msg ? msg : exr_get_default_error_message(code);
}

int64_t memRead(exr_const_context_t, void* userdata, void* buffer, uint64_t sz, uint64_t offset,
                exr_stream_error_func_ptr_t) {
    auto* src = static_cast<MemSource*>(userdata);
    if (offset >= src->size) return 0;
    uint64_t n = std::min<uint64_t>(sz, src->size - offset);
    std::memcpy(buffer, src->data + offset, n);
    return static_cast<int64_t>(n);
}

int64_t memSize(exr_const_context_t, void* userdata) {
    return static_cast<int64_t>(static_cast<MemSource*>(userdata)->size);
}

std::string coreFailure(const char* what, exr_result_t rv) {
    std::string msg = gCoreMessage.empty() ? exr_get_default_error_message(rv) : gCoreMessage;
    gCoreMessage.clear();
    return std::string(what) + ": " + msg;
}

// Imf reads through this stream; every access is bounds-checked and throws like a short file would.
class MemIStream final : public Imf::IStream {
public:
    MemIStream(const char* data, uint64_t size) : Imf::IStream("memory"), data_(data), size_(size) {}
    bool read(char c[], int n) override {
        if (n < 0 || pos_ > size_ || uint64_t(n) > size_ - pos_)
            throw Iex::InputExc("unexpected end of file");
        std::memcpy(c, data_ + pos_, size_t(n));
        pos_ += uint64_t(n);
        return pos_ < size_;
    }
    uint64_t tellg() override { return pos_; }
    void seekg(uint64_t pos) override { pos_ = pos; }
    void clear() override {}

private:
    const char* data_;
    uint64_t size_;
    uint64_t pos_ = 0;
};

}  // namespace

struct hp_exr_handle {
    MemSource src;
    exr_context_t core = nullptr;
    int parts = 0;
};

extern "C" {

int hp_exr_open(const void* bytes, size_t size, uint64_t max_pixels, hp_exr_handle** out, char* err,
                size_t err_len) {
    *out = nullptr;
    try {
        auto* h = new hp_exr_handle();
        h->src = MemSource{static_cast<const char*>(bytes), uint64_t(size)};
        exr_context_initializer_t init = EXR_DEFAULT_CONTEXT_INITIALIZER;
        init.error_handler_fn = coreErrorHandler;
        init.user_data = &h->src;
        init.read_fn = memRead;
        init.size_fn = memSize;
        init.flags = EXR_CONTEXT_FLAG_DISABLE_CHUNK_RECONSTRUCTION | EXR_CONTEXT_FLAG_STRICT_HEADER;
        gCoreMessage.clear();
        exr_result_t rv = exr_start_read(&h->core, "memory", &init);
        if (rv != EXR_ERR_SUCCESS) {
            setError(err, err_len, coreFailure("invalid header", rv));
            if (h->core) exr_finish(&h->core);
            delete h;
            return 1;
        }
        exr_get_count(h->core, &h->parts);
        if (h->parts < 1) {
            setError(err, err_len, "file has no parts");
            hp_exr_close(h);
            return 1;
        }
        // Refuse absurd data windows in every part before Imf sizes chunk tables or buffers from them.
        for (int p = 0; p < h->parts; ++p) {
            exr_attr_box2i_t dw;
            if ((rv = exr_get_data_window(h->core, p, &dw)) != EXR_ERR_SUCCESS) {
                setError(err, err_len, coreFailure("invalid data window", rv));
                hp_exr_close(h);
                return 1;
            }
            int64_t w = int64_t(dw.max.x) - int64_t(dw.min.x) + 1;
            int64_t ht = int64_t(dw.max.y) - int64_t(dw.min.y) + 1;
            if (w <= 0 || ht <= 0) {
                setError(err, err_len, "part " + std::to_string(p) + ": empty data window");
                hp_exr_close(h);
                return 1;
            }
            if (uint64_t(w) * uint64_t(ht) > max_pixels) {
                setError(err, err_len,
                         "part " + std::to_string(p) + ": data window " + std::to_string(w) + " x " +
                             std::to_string(ht) + " exceeds the limit of " + std::to_string(max_pixels) +
                             " pixels");
                hp_exr_close(h);
                return 1;
            }
            const exr_attr_chlist_t* chans = nullptr;
            if (exr_get_channels(h->core, p, &chans) != EXR_ERR_SUCCESS || !chans) {
                setError(err, err_len, "part " + std::to_string(p) + ": no channel list");
                hp_exr_close(h);
                return 1;
            }
        }
        *out = h;
        return 0;
    } catch (const std::exception& e) {
        setError(err, err_len, e.what());
    } catch (...) {
        setError(err, err_len, "unknown error while opening");
    }
    return 1;
}

void hp_exr_close(hp_exr_handle* h) {
    if (!h) return;
    if (h->core) exr_finish(&h->core);
    delete h;
}

int hp_exr_part_count(const hp_exr_handle* h) { return h->parts; }

const char* hp_exr_part_name(const hp_exr_handle* h, int part) {
    const char* name = nullptr;
    if (exr_get_name(h->core, part, &name) != EXR_ERR_SUCCESS) return nullptr;
    return name;
}

int hp_exr_get_part_info(const hp_exr_handle* h, int part, hp_exr_part_info* out, char* err, size_t err_len) {
    std::memset(out, 0, sizeof(*out));
    exr_storage_t storage;
    exr_compression_t comp;
    exr_attr_box2i_t dw, disp;
    const exr_attr_chlist_t* chans = nullptr;
    exr_result_t rv;
    if ((rv = exr_get_storage(h->core, part, &storage)) || (rv = exr_get_compression(h->core, part, &comp)) ||
        (rv = exr_get_data_window(h->core, part, &dw)) || (rv = exr_get_channels(h->core, part, &chans))) {
        setError(err, err_len, coreFailure("invalid header", rv));
        return 1;
    }
    out->storage = int32_t(storage);
    out->compression = int32_t(comp);
    out->dw_min_x = dw.min.x; out->dw_min_y = dw.min.y; out->dw_max_x = dw.max.x; out->dw_max_y = dw.max.y;
    if (exr_get_display_window(h->core, part, &disp) == EXR_ERR_SUCCESS) {
        out->disp_min_x = disp.min.x; out->disp_min_y = disp.min.y;
        out->disp_max_x = disp.max.x; out->disp_max_y = disp.max.y;
    } else {
        out->disp_min_x = dw.min.x; out->disp_min_y = dw.min.y;
        out->disp_max_x = dw.max.x; out->disp_max_y = dw.max.y;
    }
    out->channel_count = chans ? chans->num_channels : 0;
    if (storage == EXR_STORAGE_TILED || storage == EXR_STORAGE_DEEP_TILED) {
        uint32_t tx = 0, ty = 0;
        exr_tile_level_mode_t lm;
        exr_tile_round_mode_t rm;
        if ((rv = exr_get_tile_descriptor(h->core, part, &tx, &ty, &lm, &rm)) != EXR_ERR_SUCCESS) {
            setError(err, err_len, coreFailure("invalid tile description", rv));
            return 1;
        }
        out->tile_x = int32_t(tx); out->tile_y = int32_t(ty); out->level_mode = int32_t(lm);
        int32_t lx = 0, ly = 0;
        if ((rv = exr_get_tile_levels(h->core, part, &lx, &ly)) != EXR_ERR_SUCCESS) {
            setError(err, err_len, coreFailure("invalid tile levels", rv));
            return 1;
        }
        out->levels_x = lx; out->levels_y = ly;
    }
    return 0;
}

int hp_exr_get_channel(const hp_exr_handle* h, int part, int index, hp_exr_channel* out) {
    const exr_attr_chlist_t* chans = nullptr;
    if (exr_get_channels(h->core, part, &chans) != EXR_ERR_SUCCESS || !chans || index < 0 ||
        index >= chans->num_channels)
        return 1;
    const exr_attr_chlist_entry_t& e = chans->entries[index];
    out->name = e.name.str;
    out->pixel_type = int32_t(e.pixel_type);
    out->x_sampling = e.x_sampling;
    out->y_sampling = e.y_sampling;
    return 0;
}

}  // extern "C"

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
        // Ripmaps: OpenEXRCore 3.1.5 rejects valid files written by Imf at levels (lx, ly > 0)
        // ("bad tile mip/rip level"), so only level (0, 0), the one decoded, is located for them.
        levels.push_back({0, 0});
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
        for (size_t j = first; j < jobs.size() && !failed.load(); j += stride) {
            exr_chunk_info_t ci;
            exr_result_t rv;
            int64_t x0, y0;
            std::string what;
            if (tiled) {
                what = "tile (" + std::to_string(jobs[j].tx) + ", " + std::to_string(jobs[j].ty) + ")";
                rv = exr_read_tile_chunk_info(h->core, part, int(jobs[j].tx), int(jobs[j].ty), 0, 0, &ci);
                x0 = jobs[j].tx * info.tile_x;
                y0 = jobs[j].ty * info.tile_y;
            } else {
                what = "scanline chunk at y=" + std::to_string(jobs[j].ty);
                rv = exr_read_scanline_chunk_info(h->core, part, int(jobs[j].ty), &ci);
                x0 = 0;
                y0 = int64_t(ci.start_y) - info.dw_min_y;
            }
            if (rv == EXR_ERR_SUCCESS)
                rv = initialized ? exr_decoding_update(h->core, part, &ci, &decoder)
                                 : exr_decoding_initialize(h->core, part, &ci, &decoder);
            if (rv != EXR_ERR_SUCCESS) {
                fail(where + coreFailure(what.c_str(), rv));
                break;
            }
            const bool first = !initialized;
            initialized = true;
            if (y0 < 0 || x0 + ci.width > width || y0 + ci.height > height) {
                fail(where + what + ": chunk lies outside the data window");
                break;
            }
            for (int c = 0; c < decoder.channel_count; ++c) {
                exr_coding_channel_info_t& ch = decoder.channels[c];
                ch.decode_to_ptr = nullptr;
                for (int i = 0; i < count; ++i)
                    if (std::strcmp(ch.channel_name, names[i]) == 0) {
                        ch.decode_to_ptr = reinterpret_cast<uint8_t*>(planes[i] + y0 * width + x0);
                        ch.user_pixel_stride = 4;
                        ch.user_line_stride = int32_t(4 * width);
                        ch.user_data_type = EXR_PIXEL_FLOAT;
                        ch.user_bytes_per_element = 4;
                    }
            }
            if (first && (rv = exr_decoding_choose_default_routines(h->core, part, &decoder)) != EXR_ERR_SUCCESS) {
                fail(where + coreFailure(what.c_str(), rv));
                break;
            }
            if ((rv = exr_decoding_run(h->core, part, &decoder)) != EXR_ERR_SUCCESS) {
                fail(where + coreFailure(what.c_str(), rv));
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
    try {
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
        switch (info.compression) {
        case EXR_COMPRESSION_B44:
        case EXR_COMPRESSION_B44A:
        case EXR_COMPRESSION_DWAA:
        case EXR_COMPRESSION_DWAB:
            break;
        default:
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
    } catch (const std::exception& e) {
        setError(err, err_len, e.what());
    } catch (...) {
        setError(err, err_len, "unknown error while decoding");
    }
    return 1;
}

int hp_exr_read_luminance_chroma(hp_exr_handle* h, int part, float* r, float* g, float* b, int threads,
                                 char* err, size_t err_len) {
    try {
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
    } catch (const std::exception& e) {
        setError(err, err_len, e.what());
    } catch (...) {
        setError(err, err_len, "unknown error while decoding");
    }
    return 1;
}

}  // extern "C"

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

void hp_exr_set_global_threads(int threads) {
    try {
        Imf::setGlobalThreadCount(std::max(threads, 0));
    } catch (...) {
        // No pool: decoding stays serial, which is correct, only slower.
    }
}

int hp_exr_write(const char* path, const hp_exr_part_desc* parts, int count, int threads, char* err,
                 size_t err_len) {
    try {
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
    } catch (const std::exception& e) {
        setError(err, err_len, e.what());
    } catch (...) {
        setError(err, err_len, "unknown error while writing");
    }
    return 1;
}

int hp_exr_write_luminance_chroma(const char* path, int width, int height, const float* r, const float* g,
                                  const float* b, char* err, size_t err_len) {
    try {
        std::vector<Imf::Rgba> px(size_t(width) * size_t(height));
        for (size_t i = 0; i < px.size(); ++i) px[i] = Imf::Rgba(r[i], g[i], b[i], 1.f);
        Imf::RgbaOutputFile out(path, width, height, Imf::WRITE_YC, 1.f, Imath::V2f(0, 0), 1.f,
                                Imf::INCREASING_Y, Imf::ZIP_COMPRESSION);
        out.setFrameBuffer(px.data(), 1, size_t(width));
        out.writePixels(height);
        return 0;
    } catch (const std::exception& e) {
        setError(err, err_len, e.what());
    } catch (...) {
        setError(err, err_len, "unknown error while writing");
    }
    return 1;
}

}  // extern "C"
