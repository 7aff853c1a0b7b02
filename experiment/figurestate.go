package experiment

import "reflect"

// A cell's result (the X of plan[C, X]) keeps everything its figures and
// findings need in exported fields, so that it survives being written to a
// sweep cell's result file and read back in another process. Fields that
// only the figures use (norms, sample panels, images) are tagged
// figure:"true" with omitempty or omitzero: they travel in the cell's file
// but are left out of metrics.json.

// hideFigures sets every exported field tagged figure:"true" that v reaches
// (through pointers, interfaces, slices, arrays and map values) to its zero
// value, and returns the function that puts them back. Fields it cannot set
// (inside a struct held by value in an interface or a map) are left alone.
func hideFigures(v any) (restore func()) {
	var undo []func()
	eachField(reflect.ValueOf(v), map[uintptr]bool{}, func(f reflect.Value, sf reflect.StructField) {
		if sf.Tag.Get("figure") == "" || !f.CanSet() || f.IsZero() {
			return
		}
		old := reflect.New(f.Type()).Elem()
		old.Set(f)
		f.SetZero()
		undo = append(undo, func() { f.Set(old) })
	})
	return func() {
		for _, u := range undo {
			u()
		}
	}
}

// eachField calls fn on every exported or embedded struct field that v
// reaches (the fields encoding/json writes), before
// descending into it; seen stops it at a pointer met twice.
func eachField(v reflect.Value, seen map[uintptr]bool, fn func(reflect.Value, reflect.StructField)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		eachField(v.Elem(), seen, fn)
	case reflect.Interface:
		if !v.IsNil() {
			eachField(v.Elem(), seen, fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() || sf.Anonymous {
				fn(v.Field(i), sf)
				eachField(v.Field(i), seen, fn)
			}
		}
	case reflect.Slice, reflect.Array:
		if hasFields(v.Type().Elem()) {
			for i := range v.Len() {
				eachField(v.Index(i), seen, fn)
			}
		}
	case reflect.Map:
		if hasFields(v.Type().Elem()) {
			for it := v.MapRange(); it.Next(); {
				eachField(it.Value(), seen, fn)
			}
		}
	}
}

// hasFields reports whether a value of type t can lead to a struct field.
func hasFields(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return hasFields(t.Elem())
	case reflect.Struct, reflect.Interface:
		return true
	}
	return false
}
