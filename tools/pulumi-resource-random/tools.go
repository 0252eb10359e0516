// Package pulumiresourcerandomtools only anchors this wrapper module.
package pulumiresourcerandomtools
