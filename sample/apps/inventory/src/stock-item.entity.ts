import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'stock' })
export class StockItem {
  @PrimaryColumn({ type: 'text' })
  sku!: string;

  @Column({ type: 'text' })
  warehouse!: string;

  @Column({ type: 'integer' })
  available!: number;
}
