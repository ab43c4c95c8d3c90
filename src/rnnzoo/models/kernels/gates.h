// Per-row backward gate work of the GRU and LSTM cells (gates.cpp, compiled with -ffast-math:
// products and sums only, no comparisons, so NaN still propagates).  The forward gate work runs
// in ATen's vectorised sigmoid/tanh (gated_core.py): gcc's libmvec exp/tanh measured 2.5x slower.
#pragma once
#include <cstdint>

namespace rnnzoo_gates {

template <class T>
void gru_backward_row(T* dh, const T* saved, const T* h_prev, T* d, T* dx, int64_t n);
template <class T>
void lstm_backward_row(const T* dh, T* dc, const T* gates, const T* c_prev, const T* tc, T* d,
                       int64_t n);

}  // namespace rnnzoo_gates
