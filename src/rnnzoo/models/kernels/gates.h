// Per-row gate work of the GRU and LSTM cells (gates.cpp, compiled with -ffast-math so that
// exp and tanh vectorise through glibc's libmvec; no comparisons, so NaN still propagates).
#pragma once
#include <cstdint>

namespace rnnzoo_gates {

template <class T>
void gru_forward_row(const T* x, const T* hh, const T* bhn, const T* h_prev, T* h, T* saved,
                     int64_t n);
template <class T>
void gru_backward_row(T* dh, const T* saved, const T* h_prev, T* d, int64_t n);
template <class T>
void lstm_forward_row(T* gates, const T* c_prev, T* c, T* tc, T* h, int64_t n);
template <class T>
void lstm_backward_row(const T* dh, T* dc, const T* gates, const T* c_prev, const T* tc, T* d,
                       int64_t n);

}  // namespace rnnzoo_gates
