package scenario

import "testing"

// FuzzParse: no scenario text panics Parse or Validate, and a scenario
// that parses round-trips: Parse(Marshal(s)) is s.
func FuzzParse(f *testing.F) {
	f.Add(string(DefaultYAML()))
	f.Add("name: x\nfleet: {spec: 8x8xH100}\nhorizon: 1d\n")
	f.Add("fleet: {spec: 8x8xH100}\nworkloads: [{name: a, segment: internal, rate_per_hour: 1, gpus: 'const:1', duration_s: 'exp:60'}]\n")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse("fuzz.yaml", []byte(text))
		if err != nil {
			return
		}
		_ = s.Validate()
		b, err := s.Marshal()
		if err != nil {
			t.Fatalf("a parsed scenario does not marshal: %v", err)
		}
		again, err := Parse("fuzz.yaml (marshalled)", b)
		if err != nil {
			t.Fatalf("a marshalled scenario does not parse: %v\n%s", err, b)
		}
		b2, err := again.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		// Marshal writes every field (none is yaml:"-"), so equal text is
		// an equal scenario; DeepEqual would also tell a nil list from an
		// empty one, which the YAML cannot.
		if string(b) != string(b2) {
			t.Fatalf("round trip changed the scenario:\n%s\nbecame\n%s", b, b2)
		}
	})
}
