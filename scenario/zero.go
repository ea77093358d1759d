package scenario

import (
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Zero is a value: a numeric field written as 0 must not become its
// default. EnsureDefaults (called again by the runner and the workload
// generators) fills fields left at zero, so it cannot tell "not set" from
// 0 there. Parse finds the numeric scalars the file sets to 0
// (explicitZeros) and, after EnsureDefaults, the ones a default replaced
// (replacedZeros): such a 0 is an error naming the field. Every other 0 is
// used as written (Validate judges it). Fields under maps of free-form
// values (allocator_params, pricer_params) are decoded by the policies,
// which tell 0 from "not set" themselves.

// explicitZeros returns the yaml paths (keys and sequence indexes) of the
// numeric scalars written as 0 under n.
func explicitZeros(n *yaml.Node, path []string, out *[][]string) {
	numericScalars(n, path, out, func(v string) bool {
		f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
		return err == nil && f == 0
	})
}

// numericScalars appends the paths of the numeric scalars under n whose
// text keep accepts.
func numericScalars(n *yaml.Node, path []string, out *[][]string, keep func(string) bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			numericScalars(c, path, out, keep)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			numericScalars(n.Content[i+1], append(path[:len(path):len(path)], n.Content[i].Value), out, keep)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			numericScalars(c, append(path[:len(path):len(path)], strconv.Itoa(i)), out, keep)
		}
	case yaml.ScalarNode:
		if (n.Tag == "!!int" || n.Tag == "!!float") && keep(n.Value) {
			*out = append(*out, path)
		}
	}
}

// replacedZeros returns the paths, among those written as 0, whose
// numeric field (reached through pointers, slices and struct fields by
// yaml name) is no longer 0: a default replaced the 0.
func replacedZeros(s *Scenario, paths [][]string) []string {
	var changed []string
	for _, p := range paths {
		v := reflect.ValueOf(s).Elem()
		ok := true
		for _, k := range p {
			if v, ok = step(v, k); !ok {
				break
			}
		}
		for ok && v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if !ok {
			continue
		}
		switch v.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if v.Int() != 0 {
				changed = append(changed, strings.Join(p, "."))
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if v.Uint() != 0 {
				changed = append(changed, strings.Join(p, "."))
			}
		case reflect.Float32, reflect.Float64:
			if v.Float() != 0 {
				changed = append(changed, strings.Join(p, "."))
			}
		}
	}
	return changed
}

// step goes from v to its field, element or pointee named k.
func step(v reflect.Value, k string) (reflect.Value, bool) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return v, false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == k && f.IsExported() {
				return v.Field(i), true
			}
			if strings.Contains(f.Tag.Get("yaml"), ",inline") {
				if w, ok := step(v.Field(i), k); ok {
					return w, true
				}
			}
		}
	case reflect.Slice:
		if i, err := strconv.Atoi(k); err == nil && i >= 0 && i < v.Len() {
			w := v.Index(i)
			for w.Kind() == reflect.Pointer && !w.IsNil() {
				w = w.Elem()
			}
			return w, true
		}
	}
	return v, false
}
