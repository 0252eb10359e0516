// Package pulumilanguagenodejstools only anchors this wrapper module.
package pulumilanguagenodejstools
