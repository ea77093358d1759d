// Package layers holds no code: its test checks the import graph against
// the package map of docs/design.md (which package may import which), so
// that the layers the design describes are the layers the code has.
package layers
