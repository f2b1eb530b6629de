-- mapping_save: a new version of one saved mapping (a save, or a removal with removed = true).
INSERT INTO mappings (name, spec, saved_at, removed)
SELECT {name:String}, {spec:String}, now64(6, 'UTC'), {removed:Bool}
