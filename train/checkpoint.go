package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"

	"github.com/flowlab/flowlab/internal/atomicfile"
)

// CheckpointVersion is the format version of checkpoint files.
const CheckpointVersion = 1

// checkpointMagic opens every checkpoint file.
const checkpointMagic = "FLOWLABCKPT\n"

// maxHeader bounds the JSON header of a checkpoint file, so that a corrupt
// length cannot make the reader allocate without limit.
const maxHeader = 1 << 20

// Checkpoint is the complete training state at the end of a step: enough to
// continue bit-identically. It is stored as
//
//	magic "FLOWLABCKPT\n"
//	uint32 LE  n = length of the JSON header
//	n bytes    JSON header: version, config hash, step, rng state, integer
//	           scalars and the name, type and length of each array
//	arrays     in header order, little-endian float32 or float64
//	uint32 LE  CRC-32 (IEEE) of everything before it
type Checkpoint struct {
	Version    int    // CheckpointVersion
	ConfigHash string // Config.Hash of the run
	Step       int    // optimizer steps completed
	RNG        []byte // the loop's PCG state (rand.PCG.MarshalBinary)
	Ints       map[string]int64
	F32        map[string][]float32
	F64        map[string][]float64
	Bytes      map[string][]byte // opaque blobs (optimizer states)
}

type ckptArray struct {
	Name string `json:"name"`
	Type string `json:"type"` // f32, f64 or u8
	Len  int    `json:"len"`
}

type ckptHeader struct {
	Version    int              `json:"version"`
	ConfigHash string           `json:"config_hash"`
	Step       int              `json:"step"`
	RNG        []byte           `json:"rng"`
	Ints       map[string]int64 `json:"ints,omitempty"`
	Arrays     []ckptArray      `json:"arrays"`
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// WriteTo writes c in the checkpoint format. The bytes depend only on c's
// contents (arrays are ordered by name).
func (c *Checkpoint) WriteTo(w io.Writer) (int64, error) {
	h := ckptHeader{Version: c.Version, ConfigHash: c.ConfigHash, Step: c.Step, RNG: c.RNG, Ints: c.Ints}
	for _, k := range sortedKeys(c.F32) {
		if _, dup := c.F64[k]; dup {
			return 0, fmt.Errorf("checkpoint: array %q is both float32 and float64", k)
		}
		h.Arrays = append(h.Arrays, ckptArray{k, "f32", len(c.F32[k])})
	}
	for _, k := range sortedKeys(c.F64) {
		if _, dup := c.Bytes[k]; dup {
			return 0, fmt.Errorf("checkpoint: array %q is both float64 and bytes", k)
		}
		h.Arrays = append(h.Arrays, ckptArray{k, "f64", len(c.F64[k])})
	}
	for _, k := range sortedKeys(c.Bytes) {
		if _, dup := c.F32[k]; dup {
			return 0, fmt.Errorf("checkpoint: array %q is both float32 and bytes", k)
		}
		h.Arrays = append(h.Arrays, ckptArray{k, "u8", len(c.Bytes[k])})
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	crc := crc32.NewIEEE()
	cw := &countWriter{w: io.MultiWriter(w, crc)}
	cw.write([]byte(checkpointMagic))
	cw.write(binary.LittleEndian.AppendUint32(nil, uint32(len(hdr))))
	cw.write(hdr)
	buf := make([]byte, 0, 1<<16)
	flush := func() {
		cw.write(buf)
		buf = buf[:0]
	}
	for _, a := range h.Arrays {
		switch a.Type {
		case "u8":
			flush()
			cw.write(c.Bytes[a.Name])
		case "f32":
			for _, v := range c.F32[a.Name] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if len(buf) >= 1<<16-8 {
					flush()
				}
			}
		default:
			for _, v := range c.F64[a.Name] {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
				if len(buf) >= 1<<16-8 {
					flush()
				}
			}
		}
	}
	flush()
	cw.write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	return cw.n, cw.err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
}

// ParseCheckpoint decodes a checkpoint file's bytes. Any corruption —
// truncation, a flipped bit (the CRC), a foreign format version, inconsistent
// lengths — is an error; it never panics.
func ParseCheckpoint(data []byte) (*Checkpoint, error) {
	if len(data) < len(checkpointMagic)+4+4 || string(data[:len(checkpointMagic)]) != checkpointMagic {
		return nil, errors.New("checkpoint: not a flowlab checkpoint (bad magic)")
	}
	body, tail := data[:len(data)-4], data[len(data)-4:]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(tail) {
		return nil, errors.New("checkpoint: checksum mismatch (truncated or corrupt file)")
	}
	rest := body[len(checkpointMagic):]
	n := binary.LittleEndian.Uint32(rest)
	rest = rest[4:]
	if n > maxHeader || int(n) > len(rest) {
		return nil, fmt.Errorf("checkpoint: header length %d exceeds the file", n)
	}
	var h ckptHeader
	dec := json.NewDecoder(bytes.NewReader(rest[:n]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("checkpoint: header: %w", err)
	}
	if h.Version != CheckpointVersion {
		return nil, fmt.Errorf("checkpoint: format version %d, this flowlab reads version %d", h.Version, CheckpointVersion)
	}
	if h.Step < 0 {
		return nil, fmt.Errorf("checkpoint: negative step %d", h.Step)
	}
	rest = rest[n:]
	c := &Checkpoint{Version: h.Version, ConfigHash: h.ConfigHash, Step: h.Step, RNG: h.RNG, Ints: h.Ints,
		F32: map[string][]float32{}, F64: map[string][]float64{}, Bytes: map[string][]byte{}}
	seen := map[string]bool{}
	for _, a := range h.Arrays {
		if seen[a.Name] {
			return nil, fmt.Errorf("checkpoint: array %q appears twice", a.Name)
		}
		seen[a.Name] = true
		var size int
		switch a.Type {
		case "u8":
			size = 1
		case "f32":
			size = 4
		case "f64":
			size = 8
		default:
			return nil, fmt.Errorf("checkpoint: array %q has unknown type %q", a.Name, a.Type)
		}
		if a.Len < 0 || a.Len > len(rest)/size {
			return nil, fmt.Errorf("checkpoint: array %q of length %d exceeds the file", a.Name, a.Len)
		}
		switch size {
		case 1:
			c.Bytes[a.Name] = bytes.Clone(rest[:a.Len])
		case 4:
			v := make([]float32, a.Len)
			for i := range v {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
			}
			c.F32[a.Name] = v
		default:
			v := make([]float64, a.Len)
			for i := range v {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(rest[8*i:]))
			}
			c.F64[a.Name] = v
		}
		rest = rest[a.Len*size:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("checkpoint: %d unexpected bytes after the arrays", len(rest))
	}
	return c, nil
}

// SaveCheckpoint writes c to path atomically.
func SaveCheckpoint(path string, c *Checkpoint) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := c.WriteTo(w)
		return err
	})
}

// LoadCheckpoint reads and decodes the checkpoint at path.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
