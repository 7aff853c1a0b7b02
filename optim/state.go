package optim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Binary state encoding: a magic tag, the hyper-parameters and step count,
// then the float32 slices, all little-endian, so that a resumed run continues
// with exactly the same bits.

var (
	adamMagic = [8]byte{'f', 'l', 'a', 'd', 'a', 'm', 0, 1}
	sgdMagic  = [8]byte{'f', 'l', 's', 'g', 'd', 0, 0, 1}
)

// ErrState is wrapped by UnmarshalBinary's errors for a malformed state.
var ErrState = errors.New("invalid optimizer state")

// MarshalBinary encodes the optimizer's full state.
func (a *Adam) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.Write(adamMagic[:])
	writeHeader(&b, []float32{a.Beta1, a.Beta2, a.Eps, a.WeightDecay}, a.Decoupled, a.T)
	writeSlice(&b, a.M)
	writeSlice(&b, a.V)
	return b.Bytes(), nil
}

// UnmarshalBinary restores a state encoded by MarshalBinary.
func (a *Adam) UnmarshalBinary(data []byte) error {
	r := bytes.NewReader(data)
	var magic [8]byte
	var hp [4]float32
	var dec uint8
	var t int64
	if err := binary.Read(r, binary.LittleEndian, &magic); err != nil || magic != adamMagic {
		return fmt.Errorf("%w: not an Adam state", ErrState)
	}
	if err := readHeader(r, hp[:], &dec, &t); err != nil || dec > 1 || t < 0 {
		return fmt.Errorf("%w: Adam header: truncated or bad", ErrState)
	}
	m, err := readSlice(r)
	if err != nil {
		return fmt.Errorf("%w: Adam first moments: %v", ErrState, err)
	}
	v, err := readSlice(r)
	if err != nil {
		return fmt.Errorf("%w: Adam second moments: %v", ErrState, err)
	}
	if len(m) != len(v) || r.Len() != 0 {
		return fmt.Errorf("%w: Adam moments of lengths %d and %d, %d trailing bytes", ErrState, len(m), len(v), r.Len())
	}
	*a = Adam{Beta1: hp[0], Beta2: hp[1], Eps: hp[2], WeightDecay: hp[3], Decoupled: dec == 1, T: t, M: m, V: v}
	return nil
}

// MarshalBinary encodes the optimizer's full state.
func (s *SGD) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.Write(sgdMagic[:])
	writeHeader(&b, []float32{s.Momentum, s.Dampening, s.WeightDecay}, s.Nesterov, s.T)
	writeSlice(&b, s.Buf)
	return b.Bytes(), nil
}

// UnmarshalBinary restores a state encoded by MarshalBinary.
func (s *SGD) UnmarshalBinary(data []byte) error {
	r := bytes.NewReader(data)
	var magic [8]byte
	var hp [3]float32
	var nest uint8
	var t int64
	if err := binary.Read(r, binary.LittleEndian, &magic); err != nil || magic != sgdMagic {
		return fmt.Errorf("%w: not an SGD state", ErrState)
	}
	if err := readHeader(r, hp[:], &nest, &t); err != nil || nest > 1 || t < 0 {
		return fmt.Errorf("%w: SGD header: truncated or bad", ErrState)
	}
	buf, err := readSlice(r)
	if err != nil {
		return fmt.Errorf("%w: SGD momentum buffer: %v", ErrState, err)
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: SGD: %d trailing bytes", ErrState, r.Len())
	}
	*s = SGD{Momentum: hp[0], Dampening: hp[1], WeightDecay: hp[2], Nesterov: nest == 1, T: t, Buf: buf}
	return nil
}

// writeHeader writes hyper-parameters bit for bit (binary.Write would pass
// them through float64, which quiets signalling NaNs), a flag and the step.
func writeHeader(b *bytes.Buffer, hp []float32, flag bool, t int64) {
	var tmp []byte
	for _, v := range hp {
		tmp = binary.LittleEndian.AppendUint32(tmp, math.Float32bits(v))
	}
	if flag {
		tmp = append(tmp, 1)
	} else {
		tmp = append(tmp, 0)
	}
	b.Write(binary.LittleEndian.AppendUint64(tmp, uint64(t)))
}

// readHeader reads what writeHeader wrote.
func readHeader(r *bytes.Reader, hp []float32, flag *uint8, t *int64) error {
	tmp := make([]byte, 4*len(hp)+9)
	if _, err := io.ReadFull(r, tmp); err != nil {
		return err
	}
	for i := range hp {
		hp[i] = math.Float32frombits(binary.LittleEndian.Uint32(tmp[4*i:]))
	}
	*flag = tmp[4*len(hp)]
	*t = int64(binary.LittleEndian.Uint64(tmp[4*len(hp)+1:]))
	return nil
}

func writeSlice(b *bytes.Buffer, s []float32) {
	var tmp [8]byte
	binary.LittleEndian.PutUint64(tmp[:], uint64(len(s)))
	b.Write(tmp[:])
	b.Grow(4 * len(s))
	for _, v := range s {
		binary.LittleEndian.PutUint32(tmp[:4], math.Float32bits(v))
		b.Write(tmp[:4])
	}
}

func readSlice(r *bytes.Reader) ([]float32, error) {
	var tmp [8]byte
	if _, err := io.ReadFull(r, tmp[:]); err != nil {
		return nil, errors.New("truncated length")
	}
	n := binary.LittleEndian.Uint64(tmp[:])
	if n > uint64(r.Len())/4 {
		return nil, fmt.Errorf("length %d but %d bytes left", n, r.Len())
	}
	raw := make([]byte, 4*n)
	io.ReadFull(r, raw) // cannot fail: r holds at least 4n bytes
	s := make([]float32, n)
	for i := range s {
		s[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return s, nil
}
