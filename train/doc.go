// Package train fits a velocity field that carries one distribution to
// another along a stochastic interpolant, and keeps the run on disk.
//
// # Training
//
// Fit trains in memory. Each step draws a batch x0 from the source and x1
// from the target, pairs them with the configured coupling, draws t (and z
// when γ ≠ 0), forms x_t and its time derivative with the interpolant, and
// takes one optimizer step on the mean squared error of the drift b(x_t, t)
// against ẋ_t. A stochastic interpolant also trains a denoiser η(x_t, t)
// against z. Config holds everything that changes the trained weights;
// Options and RunOptions hold what does not (progress, hooks, resume).
//
// Every draw comes from one PCG source seeded by Config.Seed, in a fixed
// order, and the network splits its work by rows, so the same Config gives
// the same bits whatever GOMAXPROCS is.
//
// # The run folder
//
// Run trains into a folder and writes every file atomically:
//
//	config.json        the Config (ConfigFile), written first
//	checkpoint.ckpt    the complete training state (CheckpointFile)
//	loss.csv           step, loss[, eta_loss], lr (LossFile)
//	model.safetensors  the drift, EMA weights when EMA is on (ModelFile)
//	eta.safetensors    the denoiser, stochastic interpolants only (EtaFile)
//	metrics.json       a summary of the finished run (MetricsFile)
//
// The checkpoint and loss.csv are rewritten every Config.CheckpointEvery
// steps and at the end; the model files and metrics.json appear when
// training finishes. Load reads a finished run back as a Trained.
//
// # Resume
//
// A Checkpoint holds the weights, the optimizer and EMA state, the loss
// history and the random source's state. RunOptions.Resume continues a run
// from its folder's checkpoint to the same bits as a run never interrupted,
// whether it stopped by a cancelled context or was killed at any moment. A
// resume is refused, with an error wrapping ErrConfig, when the
// configuration's hash differs from the checkpoint's or a data file
// recorded by digest has changed; a folder that already holds a run is
// refused without Resume (ErrRunExists). A cancelled context checkpoints and
// returns an error wrapping ErrInterrupted.
//
// # NaN guard
//
// After every step, and after Options.OnStep, the loss and every weight
// (raw and EMA) are checked. A NaN or ±Inf stops training with an error
// wrapping ErrNonFinite that names the step and the value; no checkpoint is
// written for that step, so the one on disk is the last good state.
package train
