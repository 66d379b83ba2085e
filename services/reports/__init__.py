"""Reports (báo cáo, thống kê): a read model of every dossier's facts, fed by events."""
