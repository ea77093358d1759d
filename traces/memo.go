package traces

// memo caches the values parsed from a text column, keyed by the raw cell,
// so that a steady stream of rows neither allocates nor parses. A column
// holds few distinct values that repeat, so a small direct-mapped table
// keyed by the length and end bytes answers most lookups with one string
// comparison, in front of a map. The map stops growing at maxCache keys.
type memo[V any] struct {
	slots [64]memoEntry[V]
	m     map[string]memoEntry[V]
}

type memoEntry[V any] struct {
	key string // a copy that the memo owns; "" marks an empty slot
	v   V
}

// maxCache bounds the distinct keys a memo keeps.
const maxCache = 4096

func memoSlot(s string) int {
	return (len(s)*7 + int(s[0])*3 + int(s[len(s)-1])) & 63
}

// get returns the value for a non-empty key.
func (m *memo[V]) get(s string) (V, bool) {
	e := &m.slots[memoSlot(s)]
	if e.key == s {
		return e.v, true
	}
	if f, ok := m.m[s]; ok {
		*e = f
		return f.v, true
	}
	var zero V
	return zero, false
}

// put records the value for a non-empty key; key must not alias memory
// that is reused.
func (m *memo[V]) put(key string, v V) {
	e := memoEntry[V]{key, v}
	m.slots[memoSlot(key)] = e
	if m.m == nil {
		m.m = map[string]memoEntry[V]{}
	}
	if len(m.m) < maxCache {
		m.m[key] = e
	}
}
