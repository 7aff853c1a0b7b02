// Package nn holds flowlab's neural velocity field v(x, t): a multilayer
// perceptron that takes a batch of points x (one per row) and their times t,
// with a forward pass, a backward pass (parameter gradients and, on request,
// the input gradient dL/dx), a forward-mode Jacobian-vector product, seeded
// PyTorch-like initialisation, and safetensors save/load with the tensor names
// a PyTorch nn.Sequential of Linear and activation layers would have.
//
// Every parameter lives in one flat []float32 (Params), laid out layer by
// layer as weight (out×in, row-major, PyTorch's layout) then bias, with the
// gradients in a parallel slice (Grads), so that optimizers, EMA and gradient
// clipping work on flat slices. Activations are stored batch-major (B×width),
// so that every heavy operation is one mat.Gemm or one fused mat kernel.
//
// A Net owns its buffers and is not safe for concurrent use; Clone one per
// goroutine. Large batches are split over the cores by the net itself: Grad
// (training) in fixed shards, Eval (sampling) in fixed row chunks, each on
// a worker net whose matrix products run on one goroutine, so that results
// do not depend on GOMAXPROCS.
package nn
