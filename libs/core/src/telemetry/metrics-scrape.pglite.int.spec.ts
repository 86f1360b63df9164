import { pgliteDatabase } from '../../test/databases.js';
import { metricsScrapeSuite } from '../../test/metrics-scrape.suite.js';

metricsScrapeSuite(pgliteDatabase());
