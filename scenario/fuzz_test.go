package scenario

import "testing"

// FuzzParse: no scenario text panics Parse or Validate.
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
	})
}
