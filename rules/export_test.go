package rules

// ReferenceKeys exposes referenceKeys to the external tests.
var ReferenceKeys = referenceKeys
