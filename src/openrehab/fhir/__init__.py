"""FHIR R4 interoperability: export a patient's records as a Bundle and import it back."""
