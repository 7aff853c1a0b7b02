// Package fdmnist scores generated MNIST digits the way FID scores images:
// a classifier (an MLP trained by flowlab on the MNIST training split) maps
// images to the activations of its last hidden layer, and FD-MNIST is the
// Fréchet distance between Gaussian fits of the features of two samples
// (metrics.Frechet, float64, stable square roots). The classifier's
// predicted classes give the sample's class coverage (metrics.Coverage).
//
// Images are rows of 784 pixels in [0, 1] (dist's MNIST range "01"). The
// classifier is deterministic from its options; Default is the one trained
// with DefaultTrainOptions, shipped with flowlab. Verify refuses a classifier
// of other data by its accuracy on MNIST digits.
package fdmnist
