"""Side effects of the workflows: email, e-signature, SMS, documents, records."""
