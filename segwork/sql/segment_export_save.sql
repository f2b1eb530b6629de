-- segment_export_save: record that a segment's enters/exits for [since, until] were handed out.
INSERT INTO segment_exports (segment, since, until, entered, exited, destination, exported_at)
VALUES ({segment:String}, {since:DateTime('UTC')}, {until:DateTime('UTC')}, {entered:UInt64}, {exited:UInt64},
        {destination:String}, now64(6))
