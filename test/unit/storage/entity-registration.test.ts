import { getMetadataArgsStorage } from 'typeorm';
import { Zart } from '../../../src';
import { zartEntities } from '../../../src/storage/entities';

describe("zart's entities", () => {
  it('are not registered in TypeORM’s global metadata storage, which belongs to the application', () => {
    expect(Zart).toBeDefined(); // the whole public API is loaded
    const storage = getMetadataArgsStorage();
    expect(storage.tables).toEqual([]);
    expect(storage.columns).toEqual([]);
    expect(storage.indices).toEqual([]);
    expect(storage.relations).toEqual([]);
  });

  it('are described by their own schemas, which each DataSource reads on its own', () => {
    expect(zartEntities.map((entity) => entity.options.tableName)).toEqual([
      'runs',
      'steps',
      'events',
      'workers',
      'queue_starts',
      'schedules',
    ]);
  });
});
