// Every migration, in order. Zart runs them at start() and `zart migrate` under an advisory lock.
import { CreateCoreTables1764000000000 } from './1764000000000-create-core-tables';

export const zartMigrations = [CreateCoreTables1764000000000];
