"""One module per EEG encoder; the registry is :data:`necomimi.models.ENCODERS`."""
