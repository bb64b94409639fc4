// Opening a file: OpenEXRCore parses and validates the headers (it is the hardened, fuzzed parser), then the
// parts, their data windows and channels are reported; reading the pixels is exr_read.cpp.
#include "shim_common.hpp"

using namespace hp;

namespace {

// The compression id of the first header's `compression` attribute, or -1. Used only to explain a header Core
// refused: codecs added after OpenEXR 3.1 (HTJ2K, ZSTD) are out of its range and fail the strict header check.
int headerCompressionId(const char* data, size_t size) {
    static const char key[] = "compression\0compression\0";
    const size_t keyLen = sizeof key - 1;
    for (size_t i = 8; i + keyLen + 5 <= size; ++i) {
        if (std::memcmp(data + i, key, keyLen) != 0) continue;
        int32_t len;
        std::memcpy(&len, data + i + keyLen, 4);
        if (len != 1) return -1;
        return static_cast<unsigned char>(data[i + keyLen + 4]);
    }
    return -1;
}

std::string newerCodecMessage(int id) {
    // Ids as OpenEXR 3.4/3.5 number them (openexr_attr.h, and the PyPI binding's Compression enum).
    const char* name = id == 10 ? "htj2k256" : id == 11 ? "htj2k32" : id == 12 ? "lj2k" : id == 13 ? "zstd" : nullptr;
    std::string what = name ? std::string("compression ") + name + " (id " + std::to_string(id) + ")"
                            : "compression id " + std::to_string(id);
    return what + " is newer than OpenEXR 3.1, which this build reads with (it knows none, rle, zips, zip, piz, "
                  "pxr24, b44, b44a, dwaa, dwab); rewrite the file with one of those";
}

}  // namespace

extern "C" {

int hp_exr_open(const void* bytes, size_t size, uint64_t max_pixels, hp_exr_handle** out, char* err,
                size_t err_len) {
    *out = nullptr;
    return guarded(err, err_len, "opening", [&]() -> int {
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
            const int comp = headerCompressionId(h->src.data, size_t(h->src.size));
            setError(err, err_len, comp > EXR_COMPRESSION_DWAB ? newerCodecMessage(comp) : coreFailure("invalid header", rv));
            gCoreMessage.clear();
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
    });
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
