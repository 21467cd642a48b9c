/// Placeholder until the demo data generator lands.
public enum Seeding {}
