// Package pulumiresourcekubernetestools only anchors this wrapper module.
package pulumiresourcekubernetestools
