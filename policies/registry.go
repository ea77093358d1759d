package policies

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"neosim/sim"
)

// Allocator and Pricer are the plugin interfaces; they are defined in sim
// because the engine calls them.
type (
	Allocator = sim.Allocator
	Pricer    = sim.Pricer
)

// Entry describes a registered policy.
type Entry[T any] struct {
	Name string
	Doc  string // one line, shown by `neosim policies`
	New  func() T
}

// Registry maps policy names to factories. Registering a name twice panics
// (a programming error caught at init).
type Registry[T any] struct {
	kind    string
	entries map[string]Entry[T]
}

func newRegistry[T any](kind string) *Registry[T] {
	return &Registry[T]{kind: kind, entries: map[string]Entry[T]{}}
}

// Register adds a policy. Call it from an init function in the policy's file.
func (r *Registry[T]) Register(name, doc string, factory func() T) {
	if _, dup := r.entries[name]; dup {
		panic(fmt.Sprintf("policies: %s %q registered twice", r.kind, name))
	}
	r.entries[name] = Entry[T]{Name: name, Doc: doc, New: factory}
}

// New makes the policy registered under name, or returns an error that lists
// the known names.
func (r *Registry[T]) New(name string) (T, error) {
	e, ok := r.entries[name]
	if !ok {
		var zero T
		return zero, fmt.Errorf("unknown %s %q (known: %s; `neosim policies` describes them)", r.kind, name, strings.Join(r.Names(), ", "))
	}
	return e.New(), nil
}

// NewWith makes the policy registered under name and sets its parameters
// from params (a scenario's allocator_params or pricer_params): each key is
// a field's yaml name; an unknown key or a bad value is an error. A policy
// with a Validate() error method is then validated.
func (r *Registry[T]) NewWith(name string, params map[string]any) (T, error) {
	p, err := r.New(name)
	if err != nil || len(params) == 0 {
		return p, err
	}
	var zero T
	b, err := yaml.Marshal(params)
	if err != nil {
		return zero, fmt.Errorf("%s %s: parameters: %v", r.kind, name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return zero, fmt.Errorf("%s %s: parameters: %s", r.kind, name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if v, ok := any(p).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return zero, fmt.Errorf("%s %s: %w", r.kind, name, err)
		}
	}
	return p, nil
}

// Names returns the registered names, sorted.
func (r *Registry[T]) Names() []string {
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Entries returns the registered entries sorted by name.
func (r *Registry[T]) Entries() []Entry[T] {
	var es []Entry[T]
	for _, n := range r.Names() {
		es = append(es, r.entries[n])
	}
	return es
}

// The registries of shipped policies.
var (
	Allocators = newRegistry[Allocator]("allocator")
	Pricers    = newRegistry[Pricer]("pricer")
)
