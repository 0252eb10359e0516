// Package pulumitools only anchors this wrapper module.
package pulumitools
