// Package dist holds flowlab's distributions and data sets: the 2-D toy sets
// (8gaussians, moons, line, circles, checkerboard, spirals, swissroll),
// isotropic Gaussians, rank-r Gaussians embedded in D dimensions, real MNIST
// read from IDX files, and user data from NPY or CSV files.
//
// Every distribution is a Sampler: it fills the rows of a float32 matrix with
// independent draws, using only the *rand.Rand it is given, so the same seed
// gives the same bits. Every Sampler can also be named by a SPEC string
// (see Parse and Specs), which is how the command line refers to them.
//
// Finite data sets (MNIST, files) are also Finite: they expose their rows,
// and sample them uniformly with replacement.
package dist

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
)

// Sampler is a distribution on R^Dim() that can be sampled.
type Sampler interface {
	// Dim is the dimension of a draw.
	Dim() int
	// Sample fills every row of dst with an independent draw, using rng as
	// its only source of randomness. It panics when dst.C != Dim().
	Sample(rng *rand.Rand, dst *mat.Dense)
}

// Finite is a data set with a fixed number of rows. Sample draws rows
// uniformly with replacement.
type Finite interface {
	Sampler
	// Len is the number of rows.
	Len() int
	// Data returns the rows as an Len()×Dim() matrix. Callers must not
	// modify it.
	Data() *mat.Dense
}

// checkDst panics when dst does not have dim columns.
func checkDst(name string, dim int, dst *mat.Dense) {
	if dst.C != dim {
		panic(fmt.Sprintf("dist: %s sampler has dim %d, dst is %s", name, dim, dst.Shape()))
	}
}

// Dataset is a Finite sampler over the rows of a matrix.
type Dataset struct {
	name    string
	data    *mat.Dense
	labels  []int // nil, or each row's class (SetLabels)
	classes int
}

// NewDataset wraps data (not copied) as a Finite sampler; name is used in
// messages. It panics when data has no rows or no columns.
func NewDataset(name string, data *mat.Dense) *Dataset {
	if data.R == 0 || data.C == 0 {
		panic(fmt.Sprintf("dist: data set %s is empty (%s)", name, data.Shape()))
	}
	return &Dataset{name: name, data: data}
}

// Name returns the name given to NewDataset.
func (d *Dataset) Name() string { return d.name }

// Dim returns the number of columns.
func (d *Dataset) Dim() int { return d.data.C }

// Len returns the number of rows.
func (d *Dataset) Len() int { return d.data.R }

// Data returns the rows (shared, not copied).
func (d *Dataset) Data() *mat.Dense { return d.data }

// Digest returns "sha256:" and the hex SHA-256 of the data set's shape and
// values (rows and columns as little-endian uint64, then each float32's bits,
// little-endian, row by row, then, when it has labels, "labels" and each
// label as a little-endian uint32): it identifies what a model was trained on,
// whatever file format or spelling of the numbers held it.
func (d *Dataset) Digest() string {
	h := sha256.New()
	var buf [4096]byte
	binary.LittleEndian.PutUint64(buf[0:], uint64(d.data.R))
	binary.LittleEndian.PutUint64(buf[8:], uint64(d.data.C))
	h.Write(buf[:16])
	vals := d.data.Data[:d.data.R*d.data.C]
	for len(vals) > 0 {
		n := min(len(vals), len(buf)/4)
		for i, v := range vals[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		h.Write(buf[:4*n])
		vals = vals[n:]
	}
	if d.labels != nil {
		// Labels change what a conditional model learns; unlabelled data
		// keeps the digest it had before labels existed.
		h.Write([]byte("labels"))
		for _, l := range d.labels {
			binary.LittleEndian.PutUint32(buf[:4], uint32(l))
			h.Write(buf[:4])
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Sample fills dst with rows drawn uniformly with replacement.
func (d *Dataset) Sample(rng *rand.Rand, dst *mat.Dense) { d.sample(rng, dst, nil) }

func (d *Dataset) sample(rng *rand.Rand, dst *mat.Dense, labels []int) {
	checkDst(d.name, d.data.C, dst)
	for i := 0; i < dst.R; i++ {
		k := rng.IntN(d.data.R)
		copy(dst.Row(i), d.data.Row(k))
		if labels != nil {
			labels[i] = d.labels[k]
		}
	}
}

// Epochs iterates over a finite data set without replacement: each epoch is
// a fresh random permutation of the rows, drawn from the rng given to
// NewEpochs.
type Epochs struct {
	f     Finite
	rng   *rand.Rand
	perm  []int
	pos   int
	epoch int
}

// NewEpochs returns an iterator over f's rows in random order, reshuffled at
// the start of each epoch.
func NewEpochs(f Finite, rng *rand.Rand) *Epochs {
	n := f.Len()
	return &Epochs{f: f, rng: rng, perm: make([]int, n), pos: n, epoch: -1}
}

// Next fills dst with the next dst.R rows, starting a new epoch (a new
// permutation) whenever the current one is used up; a batch may straddle two
// epochs. It returns the number of completed epochs before the last row
// written.
func (e *Epochs) Next(dst *mat.Dense) int {
	data := e.f.Data()
	checkDst("epochs", data.C, dst)
	for i := 0; i < dst.R; i++ {
		if e.pos == len(e.perm) {
			for j := range e.perm {
				e.perm[j] = j
			}
			e.rng.Shuffle(len(e.perm), func(a, b int) { e.perm[a], e.perm[b] = e.perm[b], e.perm[a] })
			e.pos = 0
			e.epoch++
		}
		copy(dst.Row(i), data.Row(e.perm[e.pos]))
		e.pos++
	}
	return e.epoch
}
