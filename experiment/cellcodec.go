package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// A cell's result is stored as JSON: encoding/json writes every finite
// float64 and float32 in the shortest form that parses back to the same
// bits, and keeps nil and empty slices apart, so writing a result and
// reading it back gives the same metrics.json. JSON has no NaN or ±Inf:
// encodeCell writes each non-finite float as 0 and lists it apart, by its
// path of Go field names and indices, and decodeCell puts it back. Floats
// inside maps are not walked (a non-finite one there fails the encoding).

// cellFile is what a cell's result file holds.
type cellFile struct {
	Experiment string          `json:"experiment"`
	Index      int             `json:"index"` // into the experiment's cells
	X          json.RawMessage `json:"x"`
	NonFinite  []nonFinite     `json:"nonfinite,omitempty"`
	Times      cellTimes       `json:"times"`
}

// nonFinite is one NaN or infinite float of a cell's result.
type nonFinite struct {
	Path  string `json:"path"`  // Go field names and indices from the cell, joined by '/'
	Value string `json:"value"` // NaN, +Inf or -Inf
}

// cellTimes are a cell's wall times: when its measure started and ended,
// and the parts it timed.
type cellTimes struct {
	Start float64            `json:"start_unix"`
	End   float64            `json:"end_unix"`
	Wall  float64            `json:"wall_s"`
	Parts map[string]float64 `json:"parts,omitempty"`
}

// encodeCell returns x as JSON and its non-finite floats. x's non-finite
// floats are zeroed while it is encoded and restored before it returns.
func encodeCell(x any) (json.RawMessage, []nonFinite, error) {
	var nf []nonFinite
	var undo []func()
	eachFloat(reflect.ValueOf(x), "", func(v reflect.Value, path string) {
		f := v.Float()
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return
		}
		nf = append(nf, nonFinite{Path: path, Value: strconv.FormatFloat(f, 'g', -1, 64)})
		v.SetFloat(0)
		undo = append(undo, func() { v.SetFloat(f) })
	})
	b, err := json.Marshal(x)
	for _, u := range undo {
		u()
	}
	return b, nf, err
}

// decodeCell reads a cell's JSON into x, a pointer to a struct: its
// exported fields are reset first (its unexported ones, the inputs that
// cells prepares, are kept), then the non-finite floats are put back.
func decodeCell(x any, b json.RawMessage, nf []nonFinite) error {
	v := reflect.ValueOf(x)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("experiment: a cell must be a pointer to a struct, not %T", x))
	}
	s := v.Elem()
	for i := range s.NumField() {
		if s.Type().Field(i).IsExported() {
			s.Field(i).SetZero()
		}
	}
	if err := json.Unmarshal(b, x); err != nil {
		return err
	}
	for _, n := range nf {
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || !math.IsNaN(f) && !math.IsInf(f, 0) {
			return fmt.Errorf("non-finite value %q at %s is not NaN, +Inf or -Inf", n.Value, n.Path)
		}
		t, err := floatAt(v, n.Path)
		if err != nil {
			return err
		}
		t.SetFloat(f)
	}
	return nil
}

// eachFloat calls fn on every settable float that v reaches through
// pointers, interfaces, exported and embedded struct fields (the fields
// encoding/json writes), slices and arrays, with its path.
func eachFloat(v reflect.Value, path string, fn func(v reflect.Value, path string)) {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if v.CanSet() {
			fn(v, path)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			eachFloat(v.Elem(), path, fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() || sf.Anonymous {
				eachFloat(v.Field(i), join(path, sf.Name), fn)
			}
		}
	case reflect.Slice, reflect.Array:
		if hasFloats(v.Type().Elem()) {
			for i := range v.Len() {
				eachFloat(v.Index(i), join(path, strconv.Itoa(i)), fn)
			}
		}
	}
}

// hasFloats reports whether a value of type t can hold a float eachFloat
// visits.
func hasFloats(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Struct, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return hasFloats(t.Elem())
	}
	return false
}

func join(path, step string) string {
	if path == "" {
		return step
	}
	return path + "/" + step
}

// floatAt follows path from v to a float.
func floatAt(v reflect.Value, path string) (reflect.Value, error) {
	bad := func() (reflect.Value, error) {
		return reflect.Value{}, fmt.Errorf("non-finite value at %s: no float there", path)
	}
	steps := strings.Split(path, "/")
	if path == "" {
		steps = nil
	}
	for {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return bad()
			}
			v = v.Elem()
		}
		if len(steps) == 0 {
			break
		}
		step := steps[0]
		steps = steps[1:]
		switch v.Kind() {
		case reflect.Struct:
			sf, ok := v.Type().FieldByName(step)
			if !ok || !sf.IsExported() && !sf.Anonymous || len(sf.Index) != 1 {
				return bad()
			}
			v = v.Field(sf.Index[0])
		case reflect.Slice, reflect.Array:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= v.Len() {
				return bad()
			}
			v = v.Index(i)
		default:
			return bad()
		}
	}
	if k := v.Kind(); k != reflect.Float32 && k != reflect.Float64 || !v.CanSet() {
		return bad()
	}
	return v, nil
}
