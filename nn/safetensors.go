package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/flowlab/flowlab/internal/atomicfile"
)

// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON header
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
// "__metadata__": {string: string}}, then the tensor data, offsets counted
// from the end of the header.
//
// Tensor names are those of a PyTorch nn.Sequential of Linear and activation
// modules: Linear layer l is module 2l, so its tensors are "2l.weight"
// (out×in) and "2l.bias" (out); a film net adds "film.l.weight" and
// "film.l.bias" per hidden layer l (see tensors for the learned
// embedding's). The metadata key "flowlab_config" holds
// the Config as JSON; "format" is "pt".

// maxHeader bounds the JSON header, as the reference implementation does.
const maxHeader = 100 << 20

// metaConfig is the metadata key holding the flowlab Config as JSON.
const metaConfig = "flowlab_config"

// tensor is one named parameter tensor, a view into the flat parameters.
type tensor struct {
	name  string
	shape []int64
	data  []float32
}

// tensors lists the network's tensors in the order of the flat parameter
// slice: Linear layer l as "2l.weight" (out×in) and "2l.bias" (out), then,
// for a legacy film net, hidden layer l's modulation as "film.l.weight"
// (2·out×EmbedDim) and "film.l.bias" (2·out), s in the first out rows and c
// in the rest. A learned-embedding film net has instead the time MLP as a
// PyTorch nn.Sequential(Linear, SiLU, Linear, SiLU) named "time_embed"
// ("time_embed.0.weight" E×2F, "time_embed.0.bias", "time_embed.2.weight"
// E×E, "time_embed.2.bias"), then the heads as an nn.ModuleList "film" of
// Linear(E, ·): "film.l.weight" for every layer l (2·out×E for a hidden
// layer, s then c; Dim×E for the output's scale), then every "film.l.bias".
func (n *Net) tensors() []tensor {
	var ts []tensor
	for i, l := range n.layers {
		p := strconv.Itoa(2 * i)
		ts = append(ts,
			tensor{p + ".weight", []int64{int64(l.out), int64(l.in)}, l.w.Data},
			tensor{p + ".bias", []int64{int64(l.out)}, l.b})
	}
	if n.te != nil {
		ts = append(ts, n.te.tensors(n.layers)...)
		if n.te.lab != nil {
			ts = append(ts, n.te.lab.tensors()...)
		}
		return ts
	}
	for i, l := range n.layers {
		if l.fm == nil {
			continue
		}
		p := "film." + strconv.Itoa(i)
		ts = append(ts,
			tensor{p + ".weight", []int64{int64(l.fm.R), int64(l.fm.C)}, l.fm.Data},
			tensor{p + ".bias", []int64{int64(len(l.fb))}, l.fb})
	}
	return ts
}

// tensors lists the time MLP's and the heads' tensors (see Net.tensors).
func (te *timeEmbed) tensors(layers []layer) []tensor {
	shape := func(d ...int) []int64 {
		s := make([]int64, len(d))
		for i, v := range d {
			s[i] = int64(v)
		}
		return s
	}
	e := te.w2.C
	ts := []tensor{
		{"time_embed.0.weight", shape(te.w1.R, te.w1.C), te.w1.Data},
		{"time_embed.0.bias", shape(len(te.b1)), te.b1},
		{"time_embed.2.weight", shape(e, e), te.w2.Data},
		{"time_embed.2.bias", shape(e), te.b2},
	}
	rows := func(i int) int {
		if i == len(layers)-1 {
			return layers[i].out
		}
		return 2 * layers[i].out
	}
	for i, l := range layers {
		r := rows(i)
		ts = append(ts, tensor{"film." + strconv.Itoa(i) + ".weight", shape(r, e), te.m.Data[l.col*e : (l.col+r)*e]})
	}
	for i, l := range layers {
		r := rows(i)
		ts = append(ts, tensor{"film." + strconv.Itoa(i) + ".bias", shape(r), te.mb[l.col : l.col+r]})
	}
	return ts
}

type tensorInfo struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Save writes the network's parameters to path as safetensors, atomically
// (temporary file, sync, rename), with the Config in the metadata.
func (n *Net) Save(path string) error {
	return atomicfile.Write(path, n.writeSafetensors)
}

// writeSafetensors writes the safetensors encoding of n to w.
func (n *Net) writeSafetensors(w io.Writer) error {
	cfgJSON, err := json.Marshal(n.cfg)
	if err != nil {
		return err
	}
	// Build the header by hand to keep the tensors in layer order (readers
	// do not care; people reading the header do).
	var hb bytes.Buffer
	hb.WriteString(`{"__metadata__":`)
	meta, err := json.Marshal(map[string]string{metaConfig: string(cfgJSON), "format": "pt"})
	if err != nil {
		return err
	}
	hb.Write(meta)
	var off int64
	for _, t := range n.tensors() {
		size := 4 * int64(len(t.data))
		info, err := json.Marshal(tensorInfo{"F32", t.shape, []int64{off, off + size}})
		if err != nil {
			return err
		}
		fmt.Fprintf(&hb, ",%q:%s", t.name, info)
		off += size
	}
	hb.WriteByte('}')
	for hb.Len()%8 != 0 { // pad with spaces so the data is 8-byte aligned
		hb.WriteByte(' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hb.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb.Bytes()); err != nil {
		return err
	}
	// The flat parameter slice holds the tensors in n.tensors() order.
	buf := make([]byte, 0, 1<<16)
	for _, v := range n.params {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err = w.Write(buf)
	return err
}

// Load reads a network written by Save (or by PyTorch's safetensors with the
// same names and a flowlab_config metadata entry). Every part of the file is
// checked; a corrupt, truncated or mismatched file gives an error naming the
// file and what is wrong.
func Load(path string) (*Net, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nn: load: %w", err)
	}
	n, err := decodeSafetensors(data)
	if err != nil {
		return nil, fmt.Errorf("nn: load %s: %w", path, err)
	}
	return n, nil
}

// Decode reads a network from the bytes of a safetensors file written by
// Save (an embedded file, say), with Load's checks; its errors wrap
// ErrFormat.
func Decode(data []byte) (*Net, error) {
	n, err := decodeSafetensors(data)
	if err != nil {
		return nil, fmt.Errorf("nn: decode: %w", err)
	}
	return n, nil
}

// ErrFormat is wrapped by every error Load returns for a malformed file.
var ErrFormat = errors.New("invalid safetensors file")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// decodeSafetensors parses a whole safetensors file into a Net.
func decodeSafetensors(data []byte) (*Net, error) {
	if len(data) < 8 {
		return nil, formatErr("%d bytes, shorter than the 8-byte header length", len(data))
	}
	hlen := binary.LittleEndian.Uint64(data[:8])
	if hlen > maxHeader {
		return nil, formatErr("header length %d exceeds the %d-byte limit", hlen, maxHeader)
	}
	if hlen > uint64(len(data)-8) {
		return nil, formatErr("header length %d but only %d bytes follow (truncated?)", hlen, len(data)-8)
	}
	header, body := data[8:8+hlen], data[8+hlen:]
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, formatErr("header JSON: %v", err)
	}
	metaRaw, ok := raw["__metadata__"]
	if !ok {
		return nil, formatErr("no __metadata__ (a flowlab file keeps its config there)")
	}
	var meta map[string]string
	if err := json.Unmarshal(metaRaw, &meta); err != nil {
		return nil, formatErr("__metadata__: %v", err)
	}
	cfgJSON, ok := meta[metaConfig]
	if !ok {
		return nil, formatErr("no %q in __metadata__", metaConfig)
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader([]byte(cfgJSON)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, formatErr("%s: %v", metaConfig, err)
	}
	np, err := cfg.ParamCount()
	if err != nil {
		return nil, formatErr("%s: %v", metaConfig, err)
	}
	if int64(np)*4 != int64(len(body)) {
		return nil, formatErr("config needs %d parameters (%d bytes) but the data section holds %d bytes", np, 4*int64(np), len(body))
	}
	n, err := newNet(cfg)
	if err != nil {
		return nil, formatErr("%s: %v", metaConfig, err)
	}
	if err := readTensors(n.tensors(), raw, body); err != nil {
		return nil, err
	}
	return n, nil
}

// readTensors fills ts from the header entries raw and the data section
// body, checking each entry's dtype, shape and offsets, and that no two
// tensors overlap.
func readTensors(ts []tensor, raw map[string]json.RawMessage, body []byte) error {
	if len(raw)-1 != len(ts) {
		return formatErr("%d tensors, want %d for this config", len(raw)-1, len(ts))
	}
	type span struct {
		begin, end int64
		name       string
	}
	spans := make([]span, 0, len(ts))
	for _, t := range ts {
		r, ok := raw[t.name]
		if !ok {
			return formatErr("missing tensor %q", t.name)
		}
		var info tensorInfo
		if err := json.Unmarshal(r, &info); err != nil {
			return formatErr("tensor %q: %v", t.name, err)
		}
		if info.DType != "F32" {
			return formatErr("tensor %q: dtype %q, want F32", t.name, info.DType)
		}
		if !slices.Equal(info.Shape, t.shape) {
			return formatErr("tensor %q: shape %v, want %v for this config", t.name, info.Shape, t.shape)
		}
		if len(info.DataOffsets) != 2 {
			return formatErr("tensor %q: data_offsets %v, want [begin, end]", t.name, info.DataOffsets)
		}
		b, e := info.DataOffsets[0], info.DataOffsets[1]
		if b < 0 || e < b || e > int64(len(body)) {
			return formatErr("tensor %q: data_offsets [%d, %d] outside the %d-byte data section", t.name, b, e, len(body))
		}
		if e-b != 4*int64(len(t.data)) {
			return formatErr("tensor %q: data_offsets [%d, %d] span %d bytes, want %d", t.name, b, e, e-b, 4*len(t.data))
		}
		for j := range t.data {
			t.data[j] = math.Float32frombits(binary.LittleEndian.Uint32(body[b+4*int64(j):]))
		}
		spans = append(spans, span{b, e, t.name})
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.begin != b.begin {
			return int(a.begin - b.begin)
		}
		return int(a.end - b.end)
	})
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			return formatErr("tensors %q and %q overlap", spans[i-1].name, spans[i].name)
		}
	}
	return nil
}
