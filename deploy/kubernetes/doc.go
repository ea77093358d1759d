// Package kubernetes holds the Kubernetes manifests of a sharded sweep
// (sweep-job.yaml: the sweep file as a ConfigMap, a ReadWriteMany volume
// claim and an Indexed Job, one pod per shard; merge-job.yaml: the merge)
// and, in its test, their check: every manifest decodes strictly into the
// k8s.io/api types (unknown or duplicate fields are errors, as for
// kubectl's strict field validation) and holds what neosim sweep needs.
// The package has no code: the k8s.io modules are needed by its test only,
// and no other package imports them. docs/scale-out.md explains the files.
package kubernetes
