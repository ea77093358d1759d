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

// New makes the policy registered under name with its default parameters
// (NewWith with no parameters), or returns an error that lists the known
// names.
func (r *Registry[T]) New(name string) (T, error) { return r.NewWith(name, nil) }

// NewWith makes the policy registered under name and runs its lifecycle,
// the same with or without parameters:
//
//  1. the factory makes it (the zero value, or the defaults whose zero
//     value is itself a valid setting: see Defaulter);
//  2. params (a scenario's allocator_params or pricer_params) are decoded
//     over it: each key is a field's yaml name; an unknown key or a bad
//     value is an error;
//  3. Prepare: EnsureDefaults fills the parameters left unset, then Validate
//     checks them.
func (r *Registry[T]) NewWith(name string, params map[string]any) (T, error) {
	var zero T
	e, ok := r.entries[name]
	if !ok {
		return zero, fmt.Errorf("unknown %s %q (known: %s; `neosim policies` describes them)", r.kind, name, strings.Join(r.Names(), ", "))
	}
	p := e.New()
	if len(params) > 0 {
		b, err := yaml.Marshal(params)
		if err != nil {
			return zero, fmt.Errorf("%s %s: parameters: %v", r.kind, name, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(p); err != nil {
			return zero, fmt.Errorf("%s %s: parameters: %s", r.kind, name, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	if err := Prepare(p); err != nil {
		return zero, fmt.Errorf("%s %s: %w", r.kind, name, err)
	}
	return p, nil
}

// Defaulter is an optional policy capability: EnsureDefaults sets every
// parameter left at its zero value to its default (the zero value of a
// parameter means "not set"). A parameter whose zero value is a valid
// setting of its own (partition's internal_share 0, random's seed 0) cannot
// be told from "not set": its factory sets its default instead, before the
// parameters are decoded over it.
type Defaulter interface{ EnsureDefaults() }

// Validator is an optional policy capability: Validate checks the
// parameters, naming the field in its errors, and changes nothing.
type Validator interface{ Validate() error }

// Prepare runs a policy's lifecycle after its parameters are set:
// EnsureDefaults (if it is a Defaulter), then Validate (if it is a
// Validator). The registry calls it on every policy it makes; call it on a
// policy built as a struct literal before handing it to the engine.
func Prepare(p any) error {
	if d, ok := p.(Defaulter); ok {
		d.EnsureDefaults()
	}
	if v, ok := p.(Validator); ok {
		return v.Validate()
	}
	return nil
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
