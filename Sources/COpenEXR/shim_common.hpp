// Internal to the shim: error plumbing, in-memory streams for Core and Imf, and the open-file handle.
#pragma once

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


namespace hp {

inline void setError(char* err, size_t len, const std::string& msg) {
    if (!err || len == 0) return;
    // One line: the caller prints it after the path.
    std::string line;
    line.reserve(msg.size());
    for (char c : msg) line.push_back((c == '\n' || c == '\r') ? ' ' : c);
    std::snprintf(err, len, "%s", line.c_str());
}

// Runs `body`, turning any C++ exception into an error message and a non-zero status: no exception
// ever crosses into Swift.
template <class Body>
int guarded(char* err, size_t err_len, const char* activity, Body&& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        setError(err, err_len, e.what());
    } catch (...) {
        setError(err, err_len, std::string("unknown error while ") + activity);
    }
    return 1;
}

struct MemSource {
    const char* data;
    uint64_t size;
};

// Core reports errors through this callback; keep the most detailed message of the current call.
inline thread_local std::string gCoreMessage;

inline void coreErrorHandler(exr_const_context_t, exr_result_t code, const char* msg) {
    gCoreMessage = msg ? msg : exr_get_default_error_message(code);
}

inline int64_t memRead(exr_const_context_t, void* userdata, void* buffer, uint64_t sz, uint64_t offset,
                exr_stream_error_func_ptr_t) {
    auto* src = static_cast<MemSource*>(userdata);
    if (offset >= src->size) return 0;
    uint64_t n = std::min<uint64_t>(sz, src->size - offset);
    std::memcpy(buffer, src->data + offset, n);
    return static_cast<int64_t>(n);
}

inline int64_t memSize(exr_const_context_t, void* userdata) {
    return static_cast<int64_t>(static_cast<MemSource*>(userdata)->size);
}

inline std::string coreFailure(const char* what, exr_result_t rv) {
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

}  // namespace hp

struct hp_exr_handle {
    hp::MemSource src;
    exr_context_t core = nullptr;
    int parts = 0;
};

