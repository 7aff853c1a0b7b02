package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func encode(t testing.TB, n *Net) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := n.writeSafetensors(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, cfg := range testConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNew(t, cfg, 41)
			path := filepath.Join(dir, "model.safetensors")
			if err := n.Save(path); err != nil {
				t.Fatal(err)
			}
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := n.Config(), m.Config(); a.Dim != b.Dim || a.Act != b.Act || a.Fourier != b.Fourier || a.Arch != b.Arch || len(a.Hidden) != len(b.Hidden) {
				t.Fatalf("config %+v loaded as %+v", a, b)
			}
			for i, v := range n.Params() {
				if math.Float32bits(v) != math.Float32bits(m.Params()[i]) {
					t.Fatalf("%+v: parameter %d: saved %g, loaded %g", cfg, i, v, m.Params()[i])
				}
			}
		})
	}
}

// TestSafetensorsLayout checks the file against the format's definition and
// PyTorch's names: header length, 8-byte alignment, tensor names and shapes
// of nn.Sequential(Linear, act, Linear, act, Linear), data in row-major order.
func TestSafetensorsLayout(t *testing.T) {
	cfg := Config{Dim: 2, Hidden: []int{4, 3}, Act: "relu", Fourier: 1}
	n := mustNew(t, cfg, 43)
	data := encode(t, n)
	hlen := binary.LittleEndian.Uint64(data)
	if (8+hlen)%8 != 0 {
		t.Errorf("data section starts at %d, not 8-byte aligned", 8+hlen)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+hlen], &hdr); err != nil {
		t.Fatal(err)
	}
	want := map[string][]int64{
		"0.weight": {4, 5}, "0.bias": {4}, // input 2 + t + sin + cos
		"2.weight": {3, 4}, "2.bias": {3},
		"4.weight": {2, 3}, "4.bias": {2},
	}
	if len(hdr) != len(want)+1 {
		t.Errorf("header has %d entries, want %d tensors and __metadata__", len(hdr), len(want))
	}
	body := data[8+hlen:]
	for name, shape := range want {
		var info tensorInfo
		if err := json.Unmarshal(hdr[name], &info); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info.DType != "F32" || len(info.Shape) != len(shape) || info.Shape[0] != shape[0] {
			t.Errorf("%s: %+v, want F32 %v", name, info, shape)
		}
		// First element of each tensor: weight[0][0] or bias[0].
		l := int([]byte(name)[0]-'0') / 2
		var first float32
		if strings.HasSuffix(name, "weight") {
			first = n.layers[l].w.At(0, 0)
		} else {
			first = n.layers[l].b[0]
		}
		if got := math.Float32frombits(binary.LittleEndian.Uint32(body[info.DataOffsets[0]:])); got != first {
			t.Errorf("%s: first value %g, want %g", name, got, first)
		}
	}
	var meta map[string]string
	json.Unmarshal(hdr["__metadata__"], &meta)
	if !strings.Contains(meta[metaConfig], `"act":"relu"`) {
		t.Errorf("metadata %v lacks the config", meta)
	}

	// FiLM adds film.l.{weight,bias} per hidden layer: 2·out × EmbedDim.
	cfg.Arch = "film"
	data = encode(t, mustNew(t, cfg, 43))
	hlen = binary.LittleEndian.Uint64(data)
	hdr = nil
	if err := json.Unmarshal(data[8:8+hlen], &hdr); err != nil {
		t.Fatal(err)
	}
	for name, shape := range map[string][]int64{"film.0.weight": {8, 3}, "film.0.bias": {8}, "film.1.weight": {6, 3}, "film.1.bias": {6}} {
		var info tensorInfo
		if err := json.Unmarshal(hdr[name], &info); err != nil || len(info.Shape) != len(shape) || info.Shape[0] != shape[0] {
			t.Errorf("%s: %+v (%v), want shape %v", name, info, err, shape)
		}
	}
	if len(hdr) != len(want)+5 {
		t.Errorf("film header has %d entries, want %d", len(hdr), len(want)+5)
	}

}

// TestSafetensorsLayoutLearned: a film net with a learned time embedding
// adds time_embed.{0,2} and film.l for every layer, the names and shapes of
// the PyTorch module in torch_test.go, to the MLP's six tensors.
func TestSafetensorsLayoutLearned(t *testing.T) {
	cfg := Config{Dim: 2, Hidden: []int{4, 3}, Act: "relu", Fourier: 1, Arch: "film", TimeEmbed: 6}
	data := encode(t, mustNew(t, cfg, 43))
	hlen := binary.LittleEndian.Uint64(data)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+hlen], &hdr); err != nil {
		t.Fatal(err)
	}
	learned := map[string][]int64{
		"time_embed.0.weight": {6, 16}, "time_embed.0.bias": {6},
		"time_embed.2.weight": {6, 6}, "time_embed.2.bias": {6},
		"film.0.weight": {8, 6}, "film.0.bias": {8},
		"film.1.weight": {6, 6}, "film.1.bias": {6},
		"film.2.weight": {2, 6}, "film.2.bias": {2},
	}
	for name, shape := range learned {
		var info tensorInfo
		if err := json.Unmarshal(hdr[name], &info); err != nil || !slices.Equal(info.Shape, shape) {
			t.Errorf("%s: %+v (%v), want shape %v", name, info, err, shape)
		}
	}
	if len(hdr) != 6+len(learned)+1 {
		t.Errorf("learned film header has %d entries, want %d", len(hdr), 6+len(learned)+1)
	}
}

// TestTensorsCoverParams checks that the tensors, in order, are exactly the
// flat parameter slice (what Save writes as one block).
func TestTensorsCoverParams(t *testing.T) {
	for _, cfg := range testConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNew(t, cfg, 3)
			off := 0
			for _, ts := range n.tensors() {
				if len(ts.data) > 0 && &ts.data[0] != &n.params[off] {
					t.Fatalf("%+v: tensor %s does not start at parameter %d", cfg, ts.name, off)
				}
				off += len(ts.data)
			}
			if off != len(n.params) {
				t.Fatalf("%+v: tensors cover %d of %d parameters", cfg, off, len(n.params))
			}
		})
	}
}

// rewriteHeader returns a file with the header transformed by f.
func rewriteHeader(data []byte, f func(map[string]any)) []byte {
	hlen := binary.LittleEndian.Uint64(data)
	var hdr map[string]any
	json.Unmarshal(data[8:8+hlen], &hdr)
	f(hdr)
	h, _ := json.Marshal(hdr)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	return append(out, data[8+hlen:]...)
}

func TestLoadRejectsBadFiles(t *testing.T) {
	cfg := Config{Dim: 2, Hidden: []int{4, 3}}
	good := encode(t, mustNew(t, cfg, 47))
	tensor := func(h map[string]any, name string) map[string]any { return h[name].(map[string]any) }
	cases := map[string][]byte{
		"empty":         {},
		"short":         good[:5],
		"truncated":     good[:len(good)-1],
		"extra byte":    append(append([]byte(nil), good...), 0),
		"huge header":   append(binary.LittleEndian.AppendUint64(nil, 1<<40), good[8:]...),
		"header beyond": append(binary.LittleEndian.AppendUint64(nil, uint64(len(good))), good[8:]...),
		"bad json":      append(binary.LittleEndian.AppendUint64(nil, 4), []byte("{x: ")...),
		"no metadata":   rewriteHeader(good, func(h map[string]any) { delete(h, "__metadata__") }),
		"no config": rewriteHeader(good, func(h map[string]any) {
			h["__metadata__"] = map[string]any{"format": "pt"}
		}),
		"bad config": rewriteHeader(good, func(h map[string]any) {
			h["__metadata__"] = map[string]any{metaConfig: `{"dim":-1}`}
		}),
		"config mismatch": rewriteHeader(good, func(h map[string]any) {
			h["__metadata__"] = map[string]any{metaConfig: `{"dim":2,"hidden":[4,4]}`}
		}),
		"dtype":   rewriteHeader(good, func(h map[string]any) { tensor(h, "2.bias")["dtype"] = "F16" }),
		"shape":   rewriteHeader(good, func(h map[string]any) { tensor(h, "0.weight")["shape"] = []int{3, 4} }),
		"missing": rewriteHeader(good, func(h map[string]any) { delete(h, "4.bias") }),
		"extra": rewriteHeader(good, func(h map[string]any) {
			h["6.bias"] = map[string]any{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{0, 8}}
		}),
		"offsets out of range": rewriteHeader(good, func(h map[string]any) {
			tensor(h, "4.bias")["data_offsets"] = []int64{1 << 40, 1<<40 + 8}
		}),
		"offsets reversed": rewriteHeader(good, func(h map[string]any) {
			tensor(h, "4.bias")["data_offsets"] = []int{8, 0}
		}),
		"overlap": rewriteHeader(good, func(h map[string]any) {
			tensor(h, "4.bias")["data_offsets"] = []any{tensor(h, "0.bias")["data_offsets"].([]any)[0], tensor(h, "0.bias")["data_offsets"].([]any)[0].(float64) + 8}
		}),
		"offsets not numbers": rewriteHeader(good, func(h map[string]any) {
			tensor(h, "0.bias")["data_offsets"] = []string{"a", "b"}
		}),
	}
	dir := t.TempDir()
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".safetensors")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Errorf("%s: loaded without error", name)
				return
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: error %q should wrap ErrFormat and name the file", name, err)
			}
		})
	}
	// Every prefix of a valid file is an error, never a panic.
	for i := 0; i < len(good); i++ {
		if _, err := decodeSafetensors(good[:i]); err == nil {
			t.Fatalf("prefix of %d bytes accepted", i)
		}
	}
	if _, err := Load(filepath.Join(dir, "does-not-exist")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzDecodeSafetensors(f *testing.F) {
	good := encode(f, mustNew(f, Config{Dim: 2, Hidden: []int{3}}, 1))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(encode(f, mustNew(f, Config{Dim: 1, Fourier: 1, Act: "tanh"}, 2)))
	f.Add(encode(f, mustNew(f, Config{Dim: 2, Hidden: []int{3, 2}, Arch: "film", Fourier: 1}, 3)))
	f.Add([]byte{})
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := decodeSafetensors(data)
		if err != nil {
			if n != nil || !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v with net %v, or not ErrFormat", err, n)
			}
			return
		}
		// Whatever was accepted must re-encode to an equivalent file.
		var b bytes.Buffer
		if err := n.writeSafetensors(&b); err != nil {
			t.Fatal(err)
		}
		m, err := decodeSafetensors(b.Bytes())
		if err != nil {
			t.Fatalf("re-encoded file rejected: %v", err)
		}
		for i, v := range n.Params() {
			if math.Float32bits(v) != math.Float32bits(m.Params()[i]) {
				t.Fatalf("parameter %d changed in a round trip", i)
			}
		}
	})
}
