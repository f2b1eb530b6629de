-- segment_definition_save: store a new version of a segment definition (or its removal).
INSERT INTO segment_definitions (name, version, definition, note, saved_at, removed)
VALUES ({name:String}, {version:UInt32}, {definition:String}, {note:String}, now64(6), {removed:Bool})
